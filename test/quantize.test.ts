import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { OnnxProto } from '../src/convert/onnx.ts';
import { convertModelDir, int8Variant, loadCalibration, onnx, parseQuantizeMode, QUANTIZATION_METADATA_KEY, quantizeInt8, trainingFolder, type ConvertResult } from '../src/convert/index.ts';
import { fromHalfBits, toHalfBits } from '../src/convert/quantize/half.ts';
import { pickCalibrationFiles } from '../src/convert/quantize/index.ts';
import { imageToInput } from '../src/node/index.ts';
import { seededRandom } from '../src/data/index.ts';
import { loadModel } from '../src/node/index.ts';
import { SPEC_METADATA_KEY, type PreprocessSpec } from '../src/core/index.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');
const DataType = onnx.TensorProto.DataType;

function decode(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes);
}

/** A decoded graph; protobufjs fills every repeated field of decoded messages with an array. */
type Filled<T> = { [K in keyof T]-?: NonNullable<T[K]> };
type Graph = { node: Filled<OnnxProto.INodeProto>[]; initializer: Filled<OnnxProto.ITensorProto>[]; input: OnnxProto.IValueInfoProto[]; output: OnnxProto.IValueInfoProto[] };
const graphOf = (bytes: Uint8Array) => decode(bytes).graph as unknown as Graph;

function opCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of decode(bytes).graph?.node ?? []) counts[n.opType ?? ''] = (counts[n.opType ?? ''] ?? 0) + 1;
  return counts;
}

function metadata(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(decode(bytes).metadataProps.map((p) => [p.key, p.value]));
}

/** The graph ONNX Runtime actually runs (after its QDQ fusions), as op counts. */
async function optimizedOps(bytes: Uint8Array): Promise<Record<string, number>> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'fw-quantize-opt-')), 'optimized.onnx');
  // Severity 3 silences ORT's warning that a fully optimised dump is hardware specific.
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 3 });
  await session.release();
  return opCounts(await readFile(file));
}

const argmax = (p: Float32Array) => p.indexOf(Math.max(...p));

describe('int8 quantisation of the trained fixture model', () => {
  let dir: string;
  let fp32: Uint8Array;
  let int8: Uint8Array;
  let result: ConvertResult;
  let images: { label: string; input: Float32Array }[];

  before(async () => {
    dir = await trainedModel();
    fp32 = await readFile(path.join(dir, 'model.onnx'));
    // Calibrates on up to 100 images of the training folder that training.json records.
    result = await convertModelDir(dir, { quantize: 'int8', out: path.join(await mkdtemp(path.join(os.tmpdir(), 'fw-int8-')), 'model.int8.onnx') });
    int8 = await readFile(result.path);
    const preprocess = JSON.parse(metadata(fp32)[SPEC_METADATA_KEY]).preprocess as PreprocessSpec;
    const files = await firstFiles(path.join(SHOES, 'test'), 100);
    images = await Promise.all(files.map(async ({ label, file }) => ({ label, input: await imageToInput(await readFile(file), file, preprocess) })));
  });

  test('QDQ form: activations quantised, every Conv weight int8 per output channel, Softmax float', () => {
    const ops = opCounts(int8);
    assert.ok(ops.QuantizeLinear > 0 && ops.DequantizeLinear > ops.QuantizeLinear, JSON.stringify(ops));
    assert.equal(ops.Softmax, 1);
    const graph = graphOf(int8);
    const inits = new Map(graph.initializer.map((t) => [t.name, t]));
    const producers = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const convs = graph.node.filter((n) => n.opType === 'Conv');
    assert.equal(convs.length, opCounts(fp32).Conv);
    for (const conv of convs) {
      const dq = producers.get(conv.input[1]);
      assert.ok(dq?.opType === 'DequantizeLinear', `${conv.name} weight`);
      const [weight, scale] = [inits.get(dq.input[0]), inits.get(dq.input[1])];
      assert.ok(weight && scale);
      assert.equal(weight.dataType, DataType.INT8);
      assert.equal(Number(dq.attribute.find((a) => a.name === 'axis')?.i), 0);
      assert.deepEqual(scale.dims.map(Number), [Number(weight.dims[0])], 'one scale per output channel');
      assert.equal(producers.get(conv.input[0])?.opType, 'DequantizeLinear', `${conv.name} input`);
    }
    assert.equal(graph.output[0].type?.tensorType?.elemType, DataType.FLOAT);
  });

  test('ONNX Runtime runs every Conv and Add as an integer kernel', async () => {
    const ops = await optimizedOps(int8);
    assert.equal(ops.QLinearConv, opCounts(fp32).Conv, JSON.stringify(ops));
    assert.equal(ops.QLinearAdd, opCounts(fp32).Add);
    assert.equal(ops.Conv ?? 0, 0);
    assert.equal(ops.FusedConv ?? 0, 0);
  });

  test('file is under 30% of the float32 one', () => {
    assert.ok(int8.length < 0.3 * fp32.length, `${int8.length} vs ${fp32.length} (${((100 * int8.length) / fp32.length).toFixed(1)}%)`);
    assert.equal(result.quantization?.fp32Bytes, fp32.length);
  });

  test('keeps the spec metadata, describes the method, and loads with the same labels', async () => {
    const before = metadata(fp32);
    const after = metadata(int8);
    assert.equal(after[SPEC_METADATA_KEY], before[SPEC_METADATA_KEY]);
    const described = JSON.parse(after[QUANTIZATION_METADATA_KEY]);
    assert.equal(described.mode, 'int8');
    assert.equal(described.calibration.method, 'minmax');
    assert.equal(described.calibration.samples, result.quantization?.calibration?.images);
    assert.ok(described.calibration.samples >= 60 && described.calibration.samples <= 100);
    const classifier = await loadModel(result.path, { ep: 'cpu' });
    const reference = await loadModel(path.join(dir, 'model.onnx'), { ep: 'cpu' });
    assert.deepEqual(classifier.labels, reference.labels);
    await Promise.all([classifier.release(), reference.release()]);
  });

  // Measured on this fixture: 299/300 agree (int8 and float32 both right on 285).
  test('top label agrees with float32 on >= 99% of 300 test photos, and on every confident one', async (t) => {
    const [q, f] = [await loadModel(result.path, { ep: 'cpu' }), await loadModel(path.join(dir, 'model.onnx'), { ep: 'cpu' })];
    let same = 0;
    let rightQ = 0;
    let rightF = 0;
    const flippedMargins: number[] = [];
    for (let start = 0; start < images.length; start += 16) {
      const batch = images.slice(start, start + 16);
      const [pq, pf] = [await q.classifyBatch(batch.map((b) => b.input)), await f.classifyBatch(batch.map((b) => b.input))];
      batch.forEach((b, i) => {
        if (argmax(pq[i]) === argmax(pf[i])) same++;
        else {
          const [first, second] = [...pf[i]].sort((x, y) => y - x);
          flippedMargins.push(first - second);
        }
        if (q.labels[argmax(pq[i])] === b.label) rightQ++;
        if (f.labels[argmax(pf[i])] === b.label) rightF++;
      });
    }
    await Promise.all([q.release(), f.release()]);
    t.diagnostic(`agreement ${same}/${images.length}; accuracy int8 ${rightQ}, fp32 ${rightF}; fp32 top-2 margins of flips: ${flippedMargins.map((m) => m.toFixed(3)).join(' ')}`);
    assert.ok(same >= 0.99 * images.length, `${same}/${images.length} agree`);
    // Quantisation noise may tip near-ties, never a clear decision.
    assert.ok(flippedMargins.every((m) => m < 0.25), `a label flipped where float32 led by ${Math.max(...flippedMargins).toFixed(3)}`);
  });

  test('options: int8 activations, per-tensor weights, depthwise and first conv float, integer head', async () => {
    const preprocess = JSON.parse(metadata(fp32)[SPEC_METADATA_KEY]).preprocess as PreprocessSpec;
    const calibration = await loadCalibration(await trainingFolder(dir), preprocess, 16);
    const variant = int8Variant({ activations: 'int8', weights: 'per-tensor', ops: { depthwise: false, first: false, head: true } });
    const { bytes } = await quantizeInt8(fp32, calibration, { variant });
    const graph = graphOf(bytes);
    const inits = new Map(graph.initializer.map((t) => [t.name, t]));
    const producers = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const quantizes = graph.node.filter((n) => n.opType === 'QuantizeLinear');
    assert.ok(quantizes.length > 0 && quantizes.every((q) => inits.get(q.input[2])?.dataType === DataType.INT8), 'int8 activation zero points');
    const convs = graph.node.filter((n) => n.opType === 'Conv');
    const depthwise = convs.filter((c) => Number(c.attribute.find((a) => a.name === 'group')?.i ?? 1) > 1);
    const first = convs.find((c) => producers.get(c.input[0])?.opType === 'Transpose');
    assert.ok(depthwise.length > 0 && first);
    for (const conv of [...depthwise, first]) assert.equal(inits.get(conv.input[1])?.dataType, DataType.FLOAT, `${conv.name} stays float`);
    const integer = [...convs, ...graph.node.filter((n) => n.opType === 'Gemm')].filter((n) => producers.get(n.input[1])?.opType === 'DequantizeLinear');
    assert.ok(integer.some((n) => n.opType === 'Gemm'), 'the head is integer');
    assert.ok(integer.filter((n) => n.opType === 'Conv').length > 0);
    for (const node of integer) {
      const dq = producers.get(node.input[1]) as (typeof graph.node)[number];
      assert.deepEqual(inits.get(dq.input[1])?.dims, [], `${node.name}: one weight scale per tensor`);
    }
    // Every Conv left with int8 weights has a quantised output, so ORT runs each as QLinearConv.
    const ops = await optimizedOps(bytes);
    assert.equal(ops.QLinearConv, integer.filter((n) => n.opType === 'Conv').length, JSON.stringify(ops));
    assert.equal(ops.QGemm, 1);
    assert.equal(JSON.parse(metadata(bytes)[QUANTIZATION_METADATA_KEY]).activations, 'int8 asymmetric per-tensor');
  });

  test('convert --quantize fp16: float16 weights behind float32 input/output, probabilities within 1e-2', async () => {
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'fw-fp16-')), 'model.fp16.onnx');
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'convert', '--model', dir, '--quantize', 'fp16', '--out', out, '--json']);
    const converted = JSON.parse(stdout) as ConvertResult;
    assert.equal(converted.path, out);
    assert.equal(converted.quantization?.mode, 'fp16');
    const fp16 = await readFile(out);
    const graph = graphOf(fp16);
    assert.ok(graph.initializer.filter((i) => i.dataType === DataType.FLOAT16).length > 40);
    assert.equal(graph.input[0].type?.tensorType?.elemType, DataType.FLOAT);
    assert.equal(graph.output[0].type?.tensorType?.elemType, DataType.FLOAT);
    assert.equal(metadata(fp16)[SPEC_METADATA_KEY], metadata(fp32)[SPEC_METADATA_KEY]);
    assert.equal(JSON.parse(metadata(fp16)[QUANTIZATION_METADATA_KEY]).mode, 'fp16');
    const [h, f] = [await loadModel(out, { ep: 'cpu' }), await loadModel(path.join(dir, 'model.onnx'), { ep: 'cpu' })];
    // A few photos: the first two of each class.
    const few = [0, 1, 100, 101, 200, 201].map((i) => images[i].input);
    const [ph, pf] = [await h.classifyBatch(few), await f.classifyBatch(few)];
    await Promise.all([h.release(), f.release()]);
    const diff = Math.max(...ph.flatMap((p, i) => [...p].map((v, c) => Math.abs(v - pf[i][c]))));
    assert.ok(diff <= 1e-2, `max |fp16 - fp32| = ${diff}`);
  });
});

/** x [N, 8] -> MatMul [8, 16] -> Relu -> Gemm (transB, [4, 16] + bias) -> Softmax, random weights. */
function mlp(): Uint8Array {
  const random = seededRandom(7);
  const values = (n: number) => Array.from({ length: n }, () => random() * 2 - 1);
  const tensor = (name: string, dims: number[]) => ({ name, dims, dataType: DataType.FLOAT, floatData: values(dims.reduce((a, b) => a * b, 1)) });
  const io = (name: string, width: number) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'mlp',
      node: [
        { name: 'mm', opType: 'MatMul', input: ['x', 'w1'], output: ['h'] },
        { name: 'relu', opType: 'Relu', input: ['h'], output: ['r'] },
        { name: 'gemm', opType: 'Gemm', input: ['r', 'w2', 'b2'], output: ['logits'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { name: 'softmax', opType: 'Softmax', input: ['logits'], output: ['y'] },
      ],
      initializer: [tensor('w1', [8, 16]), tensor('w2', [4, 16]), tensor('b2', [4])],
      input: [io('x', 8)],
      output: [io('y', 4)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

describe('int8 quantisation of MatMul and Gemm', () => {
  test('per-channel weights on the output axis, int32 bias, integer kernels, outputs close to float', async () => {
    const fp32 = mlp();
    const random = seededRandom(3);
    const sample = () => Float32Array.from({ length: 8 }, () => random() * 4 - 2);
    const { bytes, summary } = await quantizeInt8(fp32, { inputs: Array.from({ length: 64 }, sample), shape: [8] });
    assert.deepEqual(summary, { activations: 2, weights: 2, biases: 1, calibrationSamples: 64 });
    const graph = graphOf(bytes);
    const producers = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const axis = (op: string) => Number(producers.get(graph.node.find((n) => n.opType === op)?.input[1] ?? '')?.attribute.find((a) => a.name === 'axis')?.i);
    assert.equal(axis('MatMul'), 1, 'MatMul weight [K, N]: one scale per column');
    assert.equal(axis('Gemm'), 0, 'Gemm weight with transB is [N, K]: one scale per row');
    const ops = await optimizedOps(bytes);
    assert.ok(ops.QGemm === 1 && (ops.QLinearMatMul ?? 0) + (ops.MatMulIntegerToFloat ?? 0) === 1, JSON.stringify(ops));

    const inputs = Array.from({ length: 32 }, sample);
    const feed = new ort.Tensor('float32', Float32Array.from(inputs.flatMap((x) => [...x])), [inputs.length, 8]);
    const run = async (model: Uint8Array) => {
      const session = await ort.InferenceSession.create(model);
      const out = (await session.run({ x: feed })).y.data as Float32Array;
      await session.release();
      return out;
    };
    const [a, b] = [await run(fp32), await run(bytes)];
    const diff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    assert.ok(diff < 0.02, `max |int8 - fp32| = ${diff}`);
  });
});

describe('quantisation helpers', () => {
  test('calibration files: spread over classes round robin and over each class evenly', () => {
    const samples = [10, 2, 50].flatMap((n, label) => Array.from({ length: n }, (_, i) => ({ file: `${label}/${String(i).padStart(2, '0')}.jpg`, label })));
    const picked = pickCalibrationFiles({ labels: ['a', 'b', 'c'], samples }, 9);
    const perClass = [0, 1, 2].map((l) => picked.filter((f) => f.startsWith(`${l}/`)));
    assert.deepEqual(perClass.map((f) => f.length), [4, 2, 3]);
    assert.deepEqual(perClass[0], ['0/01.jpg', '0/03.jpg', '0/06.jpg', '0/08.jpg']);
    assert.equal(new Set(picked).size, picked.length);
    assert.equal(pickCalibrationFiles({ labels: ['a', 'b', 'c'], samples }, 1000).length, 62);
  });

  test('float16 bits round to nearest even and saturate to infinity', () => {
    assert.equal(toHalfBits(1), 0x3c00);
    assert.equal(toHalfBits(-2.5), 0xc100);
    assert.equal(toHalfBits(65504), 0x7bff);
    assert.equal(toHalfBits(1e6), 0x7c00);
    assert.equal(toHalfBits(2 ** -24), 0x0001);
    assert.equal(fromHalfBits(toHalfBits(0.1)), 0.0999755859375);
    assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00, 'a tie rounds to the even mantissa');
  });

  test('--quantize accepts int8|fp16 and a typo fails naming them, before any work', async () => {
    assert.equal(parseQuantizeMode('INT8'), 'int8');
    assert.throws(() => parseQuantizeMode('int4'), /int8\|fp16/);
    const run = promisify(execFile)(process.execPath, [BIN, 'convert', '--model', '/nonexistent', '--quantize', 'foo']);
    await assert.rejects(run, (error: { code: number; stderr: string }) => error.code === 1 && /int8\|fp16/.test(error.stderr) && !/nonexistent/.test(error.stderr));
  });
});
