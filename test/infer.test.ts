import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { expandInputs } from '../src/data/index.ts';
import { SPEC_METADATA_KEY, defaultPreprocess, type ModelSpec } from '../src/core/index.ts';
import { CUDA_INSTALL_HINT, ModelError, ProviderError, RuntimeError, isFailure, openSession, parseEp, topK, readOnnxMetadata, registerRuntime, resolveProviders, resolveRuntime, type InferenceRuntime, type PredictionResult } from '../src/core/index.ts';
import { loadModel, type Classifier } from '../src/node/index.ts';
import { toCsv } from '../src/cli/csv.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const LABELS = ['red', 'green', 'blue'];
const BOOTS = path.resolve(import.meta.dirname, '../../shared/data/shoe-sandal-boot/test/Boot');

// --- A real ONNX classifier small enough to build here: mean colour -> linear -> softmax. ---

function valueInfo(name: string, dims: (number | string)[]) {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

function specFor(labels: string[]): ModelSpec {
  return { format: 'footwear/1', labels, preprocess: defaultPreprocess({ height: 8, width: 8 }), inputName: 'input', outputName: 'probs' };
}

interface TinyModelOptions {
  spec?: ModelSpec | null;
  softmax?: boolean;
}

/** [N,8,8,3] -> ReduceMean(H,W) -> MatMul(10*I) + Add -> Softmax: the dominant channel wins. */
function tinyClassifier({ spec = specFor(LABELS), softmax = true }: TinyModelOptions = {}): Uint8Array {
  const ints = onnx.AttributeProto.AttributeType.INTS;
  const int = onnx.AttributeProto.AttributeType.INT;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'footwear-test',
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: spec ? [{ key: SPEC_METADATA_KEY, value: JSON.stringify(spec) }] : [{ key: 'author', value: 'someone' }],
    graph: {
      name: 'tiny',
      input: [valueInfo('input', ['N', 8, 8, 3])],
      output: [valueInfo('probs', ['N', 3])],
      initializer: [
        { name: 'W', dataType: FLOAT, dims: [3, 3], floatData: [10, 0, 0, 0, 10, 0, 0, 0, 10] },
        { name: 'B', dataType: FLOAT, dims: [3], floatData: [0, 0, 0] },
      ],
      node: [
        { opType: 'ReduceMean', input: ['input'], output: ['mean'], attribute: [{ name: 'axes', type: ints, ints: [1, 2] }, { name: 'keepdims', type: int, i: 0 }] },
        { opType: 'MatMul', input: ['mean', 'W'], output: ['scaled'] },
        { opType: 'Add', input: ['scaled', 'B'], output: softmax ? ['logits'] : ['probs'] },
        ...(softmax ? [{ opType: 'Softmax', input: ['logits'], output: ['probs'], attribute: [{ name: 'axis', type: int, i: -1 }] }] : []),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A backbone-shaped model: [N,14,14,3] x [3,576] -> [N,14,14,576], like a feature extractor. */
function tinyBackbone(): Uint8Array {
  const weights = Array.from({ length: 3 * 576 }, (_, i) => (i % 576) / 576);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'backbone',
      input: [valueInfo('pixels', ['N', 14, 14, 3])],
      output: [valueInfo('features', ['N', 14, 14, 576])],
      initializer: [{ name: 'W', dataType: FLOAT, dims: [3, 576], floatData: weights }],
      node: [{ opType: 'MatMul', input: ['pixels', 'W'], output: ['features'] }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

// The CUDA checks describe a machine with onnxruntime-node but without its CUDA binaries.
const node = await resolveRuntime(['onnxruntime-node']);
const cudaMissing = (await node.unavailableReason?.('cuda')) !== undefined;

const solid = (r: number, g: number, b: number, width = 20, height = 10) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } });

let dir: string;
let modelDir: string;
let classifier: Classifier;
const files: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'footwear-infer-'));
  modelDir = path.join(dir, 'model');
  await mkdir(modelDir);
  await writeFile(path.join(modelDir, 'model.onnx'), tinyClassifier());
  const photos = path.join(dir, 'photos (2024), spring');
  await mkdir(photos);
  const write = async (name: string, data: Buffer | string) => {
    files[name] = path.join(photos, name);
    await writeFile(files[name], data);
  };
  await write('red one.png', await solid(230, 20, 10).png().toBuffer());
  await write('green (1).jpg', await solid(10, 200, 30, 12, 30).jpeg().toBuffer());
  await write('blue, dark.png', await solid(0, 0, 120).png().toBuffer());
  await write('green-2.webp', await solid(0, 255, 0).webp().toBuffer());
  await write('blue "quoted".jpeg', await solid(40, 40, 250).jpeg().toBuffer());
  await write('empty.png', Buffer.alloc(0));
  await write('notes.jpg', 'this is a text file, not a photo\n');
  const jpeg = await sharp(Buffer.alloc(64 * 64 * 3, 128), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  await write('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  files['missing.png'] = path.join(photos, 'missing.png');
  classifier = await loadModel(modelDir, { ep: 'cpu' });
});

after(async () => {
  await classifier?.release();
  await rm(dir, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<PredictionResult>): Promise<PredictionResult[]> {
  const out: PredictionResult[] = [];
  for await (const result of iterable) out.push(result);
  return out;
}

describe('loadModel', () => {
  test('reads the spec from the ONNX metadata and reports the provider used', () => {
    assert.deepEqual(classifier.labels, LABELS);
    assert.equal(classifier.spec.preprocess.width, 8);
    assert.equal(classifier.executionProvider, 'cpu');
    assert.equal(classifier.modelPath, path.join(modelDir, 'model.onnx'));
  });

  test('accepts the .onnx file itself', async () => {
    const model = await loadModel(path.join(modelDir, 'model.onnx'), { ep: 'cpu', threads: 1 });
    assert.deepEqual(model.labels, LABELS);
    await model.release();
  });

  const rejects = async (name: string, bytes: Uint8Array | string, pattern: RegExp) => {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    await assert.rejects(loadModel(file, { ep: 'cpu' }), (error: unknown) => {
      assert.ok(error instanceof ModelError, `expected ModelError, got ${String(error)}`);
      assert.equal(error.source, file);
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.match(error.message, pattern);
      assert.equal(error.message.split('\n').length, 1);
      return true;
    });
  };

  test('truncated ONNX file', async () => {
    const bytes = tinyClassifier();
    await rejects('truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2)), /truncated or not ONNX/);
  });

  test('a file that is not ONNX at all', () => rejects('photo.onnx', 'GIF89a not a model', /not (a valid )?(an )?ONNX model/));

  test('empty file', () => rejects('empty.onnx', new Uint8Array(0), /empty/));

  test('ONNX without the footwear spec', () => rejects('plain.onnx', tinyClassifier({ spec: null }), /no "footwear\.spec" metadata.*author/));

  test('spec with the wrong label count', () =>
    rejects('four-labels.onnx', tinyClassifier({ spec: specFor(['a', 'b', 'c', 'd']) }), /outputs 3 scores per image .* 4 labels/));

  test('spec that fails validation', () =>
    rejects('one-label.onnx', tinyClassifier({ spec: specFor(['only']) }), /labels should be an array of at least 2 strings/));

  test('graph without a final Softmax', () => rejects('logits.onnx', tinyClassifier({ softmax: false }), /not a probability distribution/));

  test('missing file and folder without model.onnx', async () => {
    const missing = path.join(dir, 'nope.onnx');
    await assert.rejects(loadModel(missing), { name: 'ModelError', message: `${missing}: no such model file or folder` });
    const empty = path.join(dir, 'empty-folder');
    await mkdir(empty);
    await assert.rejects(loadModel(empty), { name: 'ModelError', message: `${path.join(empty, 'model.onnx')}: model folder has no model.onnx` });
  });

  test('readOnnxMetadata returns the metadata props', () => {
    const metadata = readOnnxMetadata(tinyClassifier());
    assert.deepEqual(JSON.parse(metadata[SPEC_METADATA_KEY]).labels, LABELS);
  });
});

describe('classifyFiles', () => {
  test('predicts the dominant colour of real PNG, JPEG and WebP files', async () => {
    const names = ['red one.png', 'green (1).jpg', 'blue, dark.png', 'green-2.webp', 'blue "quoted".jpeg'];
    const results = await collect(classifier.classifyFiles(names.map((n) => files[n])));
    assert.deepEqual(
      results.map((r) => (isFailure(r) ? r.error.message : r.label)),
      ['red', 'green', 'blue', 'green', 'blue'],
    );
    for (const result of results) {
      assert.ok(!isFailure(result));
      assert.equal(result.topK.length, 3);
      assert.equal(result.topK[0].label, result.label);
      assert.ok(result.score > 0.5 && result.score <= 1);
      assert.ok(Math.abs(result.topK.reduce((sum, t) => sum + t.score, 0) - 1) < 1e-5);
    }
  });

  test('bad files become error results naming the reason; order holds across batches of 3', async () => {
    const order = ['empty.png', 'red one.png', 'notes.jpg', 'green (1).jpg', 'truncated.jpg', 'blue, dark.png', 'missing.png', 'green-2.webp', 'blue "quoted".jpeg', 'red one.png'];
    const seen: number[] = [];
    const results = await collect(classifier.classifyFiles(order.map((n) => files[n]), { batchSize: 3, topK: 1, onResult: (_, i) => seen.push(i) }));
    assert.deepEqual(results.map((r) => r.file), order.map((n) => files[n]));
    assert.deepEqual(seen, [...order.keys()]);
    const summary = results.map((r) => (isFailure(r) ? r.error.code : r.label));
    assert.deepEqual(summary, ['empty', 'red', 'unsupported', 'green', 'undecodable', 'blue', 'unreadable', 'green', 'blue', 'red']);
    const failures = results.filter(isFailure);
    assert.match(failures[0].error.message, /empty/);
    assert.match(failures[1].error.message, /not an image/);
    assert.match(failures[2].error.message, /premature end of JPEG/i);
    assert.equal(failures[3].error.message, 'file not found');
    const first = results[1];
    assert.ok(!isFailure(first) && first.topK.length === 1);
  });

  test('an empty list yields nothing; breaking off early is clean', async () => {
    assert.deepEqual(await collect(classifier.classifyFiles([])), []);
    const names = ['red one.png', 'green (1).jpg', 'blue, dark.png', 'green-2.webp'].map((n) => files[n]);
    for await (const result of classifier.classifyFiles(names, { batchSize: 1 })) {
      assert.ok(!isFailure(result) && result.label === 'red');
      break;
    }
    await assert.rejects(collect(classifier.classifyFiles(names, { batchSize: 0 })), /batchSize should be a positive integer, got 0/);
  });

  test('a batch made only of bad files still yields its errors', async () => {
    const results = await collect(classifier.classifyFiles([files['empty.png'], files['notes.jpg']], { batchSize: 2 }));
    assert.deepEqual(results.map((r) => isFailure(r) && r.error.code), ['empty', 'unsupported']);
  });

  test('abort stops before the next batch', async () => {
    const controller = new AbortController();
    const names = ['red one.png', 'green (1).jpg', 'blue, dark.png', 'green-2.webp'].map((n) => files[n]);
    const results: PredictionResult[] = [];
    await assert.rejects(async () => {
      for await (const result of classifier.classifyFiles(names, { batchSize: 2, signal: controller.signal, onResult: () => controller.abort() })) {
        results.push(result);
      }
    }, { name: 'AbortError' });
    assert.equal(results.length, 2);
  });

  test('real catalogue photos with spaces and parentheses in their names', async () => {
    const boots = (await expandInputs([BOOTS])).slice(0, 5);
    assert.equal(boots.length, 5);
    assert.ok(boots.every((f) => / \(\d+\)\.jpg$/.test(f)), boots.join('\n'));
    const results = await collect(classifier.classifyFiles(boots, { batchSize: 2 }));
    assert.equal(results.length, 5);
    assert.deepEqual(results.map((r) => r.file), boots);
    for (const result of results) assert.ok(!isFailure(result), isFailure(result) ? result.error.message : '');
  });

  test('worker-thread preprocessing gives the same results, in order, as preprocessing on this thread', async () => {
    const boots = (await expandInputs([BOOTS])).slice(0, 12);
    const mixed = [...boots.slice(0, 4), files['truncated.jpg'], ...boots.slice(4, 8), files['missing.png'], files['notes.jpg'], ...boots.slice(8)];
    const here = await collect(classifier.classifyFiles(mixed, { batchSize: 4, preprocessWorkers: 0 }));
    for (const workers of [1, 3]) {
      const pooled = await collect(classifier.classifyFiles(mixed, { batchSize: 4, preprocessWorkers: workers }));
      assert.deepEqual(pooled, here, `${workers} worker(s)`);
    }
    assert.deepEqual(here.map((r) => r.file), mixed);
    assert.deepEqual(here.filter(isFailure).map((r) => r.error.code), ['undecodable', 'unreadable', 'unsupported']);
    await assert.rejects(collect(classifier.classifyFiles(mixed, { preprocessWorkers: -1 })), /preprocessWorkers should be 0 or a positive integer, got -1/);
  });

  test('classifyImage takes an upload buffer', async () => {
    const result = await classifier.classifyImage(await solid(0, 0, 255).png().toBuffer(), 'upload.png');
    assert.ok(!isFailure(result) && result.label === 'blue' && result.file === 'upload.png');
    const bad = await classifier.classifyImage(new TextEncoder().encode('nope'), 'upload.jpg');
    assert.ok(isFailure(bad) && bad.error.code === 'unsupported');
  });

  test('classifyBatch returns one probability row per input; concurrent calls do not mix', async () => {
    const size = classifier.inputSize;
    const colour = (c: number) => {
      const input = new Float32Array(size);
      for (let i = c; i < size; i += 3) input[i] = 1;
      return input;
    };
    const [a, b] = await Promise.all([classifier.classifyBatch([colour(0), colour(1)]), classifier.classifyBatch([colour(2), colour(1)])]);
    const argmax = (p: Float32Array) => p.indexOf(Math.max(...p));
    assert.deepEqual([...a, ...b].map(argmax), [0, 1, 2, 1]);
    assert.equal(a[0].length, 3);
  });
});

describe('sessions and execution providers', () => {
  test('OnnxSession.run serves any single-input model, e.g. a [N,14,14,576] backbone', async () => {
    const session = await openSession(tinyBackbone(), { ep: 'cpu', threads: 2 });
    assert.deepEqual(session.inputNames, ['pixels']);
    assert.equal(session.executionProvider, 'cpu');
    const input = new Float32Array(2 * 14 * 14 * 3).fill(1);
    const { data, dims } = await session.run(input, [2, 14, 14, 3]);
    assert.deepEqual(dims, [2, 14, 14, 576]);
    assert.equal(data.length, 2 * 14 * 14 * 576);
    assert.ok(Math.abs(data[575] - (3 * 575) / 576) < 1e-5);
    await assert.rejects(session.run(input, [1, 14, 14, 3]), /dims \[1, 14, 14, 3\] need 588/);
    await session.release();
  });

  test('a session whose threads sleep between runs (spinWait false, as the server uses) gives the same outputs', async () => {
    const input = Float32Array.from({ length: 3 * 14 * 14 * 3 }, (_, i) => (i % 17) / 17);
    const outputs = [];
    for (const spinWait of [true, false]) {
      const session = await openSession(tinyBackbone(), { ep: 'cpu', threads: 2, spinWait });
      outputs.push((await session.run(input, [3, 14, 14, 3])).data);
      await session.release();
    }
    assert.deepEqual(outputs[1], outputs[0]);
  });

  test('threads must be a positive integer', async () => {
    await assert.rejects(openSession(tinyBackbone(), { ep: 'cpu', threads: 0 }), /threads should be a positive integer/);
  });

  test('--ep cuda fails with the install hint', { skip: !cudaMissing && 'CUDA is installed here' }, async () => {
    await assert.rejects(resolveProviders('cuda'), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.ok(error.message.includes(CUDA_INSTALL_HINT), error.message);
      assert.match(error.message, /^--ep cuda: CUDA is not available \(.*providers_cuda/);
      return true;
    });
    await assert.rejects(loadModel(modelDir, { ep: 'cuda' }), { name: 'ProviderError', message: /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/ });
  });

  test('--ep auto falls back to the CPU and says why in one line', { skip: !cudaMissing && 'CUDA is installed here' }, async () => {
    assert.deepEqual(await resolveProviders('cpu'), { choice: 'cpu', candidates: ['cpu'] });
    const lines: string[] = [];
    const model = await loadModel(modelDir, { ep: 'auto', log: (line) => lines.push(line) });
    assert.equal(model.executionProvider, 'cpu');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^--ep auto: using CPU because CUDA is not available \(.+\)$/);
    await model.release();
  });

  // A runtime whose CUDA looks installed but fails when used, as with a missing GPU driver.
  const brokenCuda = (): InferenceRuntime => ({
    name: 'broken-cuda',
    unavailableReason: async () => undefined,
    async createSession(model, options) {
      if (options.executionProviders[0] === 'cuda') throw new Error('CUDA failure 100: no CUDA-capable device is detected\n  at deep native frames');
      return node.createSession(model, options);
    },
  });

  test('auto also falls back when creating the CUDA session fails', async () => {
    registerRuntime('broken-cuda', async () => brokenCuda(), -1);
    const lines: string[] = [];
    const session = await openSession(tinyBackbone(), { ep: 'auto', runtimes: ['broken-cuda'], log: (l) => lines.push(l) });
    assert.deepEqual(lines, ['--ep auto: using CPU because CUDA is not available (CUDA failure 100: no CUDA-capable device is detected)']);
    await assert.rejects(openSession(tinyBackbone(), { ep: 'cuda', runtimes: ['broken-cuda'] }), {
      name: 'ProviderError',
      message: `--ep cuda: CUDA could not start (CUDA failure 100: no CUDA-capable device is detected); ${CUDA_INSTALL_HINT}`,
    });
    await session.release();
  });

  test('when no runtime loads, one error lists every reason', async () => {
    registerRuntime('missing-a', async () => {
      throw new Error('cannot find module onnxruntime-a');
    }, -2);
    registerRuntime('missing-b', async () => {
      throw new Error('wasm binary failed to compile\nstack...');
    }, -3);
    await assert.rejects(resolveRuntime(['missing-a', 'missing-b', 'unknown']), (error: unknown) => {
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /^no ONNX runtime could be loaded: \[unknown\] not registered \(known: onnxruntime-node, .*missing-a, missing-b\); /);
      assert.ok(error.message.endsWith('; [missing-a] cannot find module onnxruntime-a; [missing-b] wasm binary failed to compile'), error.message);
      assert.deepEqual(error.failures.map((f) => f.runtime), ['unknown', 'missing-a', 'missing-b']);
      return true;
    });
  });
});

describe('helpers', () => {
  test('parseEp accepts auto|cpu|cuda and lists them otherwise', () => {
    assert.equal(parseEp('auto'), 'auto');
    assert.equal(parseEp(' CUDA '), 'cuda');
    assert.throws(() => parseEp('gpu'), { message: '--ep should be one of auto|cpu|cuda, got "gpu"' });
  });

  test('topK ranks best first and keeps label order on ties', () => {
    assert.deepEqual(topK([0.2, 0.5, 0.2, 0.1], ['a', 'b', 'c', 'd'], 3), [
      { label: 'b', score: 0.5 },
      { label: 'a', score: 0.2 },
      { label: 'c', score: 0.2 },
    ]);
    assert.throws(() => topK([0.5, 0.5], ['a', 'b'], 0), /positive integer/);
    assert.throws(() => topK([1], ['a', 'b'], 1), /1 scores for 2 labels/);
  });

  /** Reads RFC 4180 CSV back, so the test checks what a spreadsheet would see. */
  function parseCsv(text: string): string[][] {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted && c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = !quoted;
      } else if (!quoted && c === ',') {
        row.push(field);
        field = '';
      } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
        rows.push([...row, field]);
        row = [];
        field = '';
        i++;
      } else {
        field += c;
      }
    }
    return rows;
  }

  test('CSV quotes names with commas, quotes and parentheses and keeps error rows', async () => {
    const order = ['blue, dark.png', 'notes.jpg', 'blue "quoted".jpeg', 'green (1).jpg'];
    const results = await collect(classifier.classifyFiles(order.map((n) => files[n])));
    const csv = toCsv(results);
    assert.ok(csv.endsWith('\r\n'));
    const rows = parseCsv(csv);
    assert.deepEqual(rows[0], ['file', 'label', 'score', 'error']);
    assert.deepEqual(rows.slice(1).map((r) => r[0]), order.map((n) => files[n]));
    assert.deepEqual(rows.slice(1).map((r) => r[1]), ['blue', '', 'blue', 'green']);
    assert.match(rows[1][2], /^0\.\d{6}$/);
    assert.deepEqual(rows[2].slice(1), ['', '', 'unsupported: not an image (unrecognised format)']);
    assert.ok(csv.includes(`"${files['blue, dark.png']}"`));
    assert.ok(csv.includes(`"${files['blue "quoted".jpeg'].replace(/"/g, '""')}"`));
  });

  test('CSV leaves plain fields unquoted', () => {
    const csv = toCsv([{ file: 'shoes/boot (1).jpg', label: 'Boot', score: 0.25, topK: [] }]);
    assert.equal(csv, 'file,label,score,error\r\nshoes/boot (1).jpg,Boot,0.250000,\r\n');
  });
});
