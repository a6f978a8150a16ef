import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import onnxProto from 'onnx-proto';
import { parseBatchSizes } from '../src/cli/commands/export.ts';
import { exportTriton, formatPbtxt, PbEnum, type ExportTritonOptions } from '../src/deploy/index.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { messages, one, oneMessage, parsePbtxt, PbIdent, type PbFields } from './helpers-pbtxt.ts';

// `footwear export triton` through the real CLI on the real trained model. Every fact in the
// written config.pbtxt is checked against the ONNX file, read here with onnx-proto directly
// (not through src/deploy), and the config is read back with the test's own pbtxt reader.

const { onnx } = onnxProto;
const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function footwear(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as Run;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface GraphTensor {
  name: string;
  elemType: number;
  /** Sizes, or null for a dynamic dimension. */
  dims: (number | null)[];
}

function graphTensors(list: onnxProto.onnx.IValueInfoProto[]): GraphTensor[] {
  return list.map((v) => ({
    name: v.name as string,
    elemType: v.type?.tensorType?.elemType as number,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => ((d as onnxProto.onnx.TensorShapeProto.Dimension).value === 'dimValue' ? Number(d.dimValue) : null)),
  }));
}

/** The model as the test sees it, straight from the protobuf. */
function readModel(bytes: Uint8Array) {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxProto.onnx.IGraphProto;
  const spec = JSON.parse(model.metadataProps.find((p) => p.key === 'footwear.spec')?.value as string) as { labels: string[]; inputName: string; outputName: string };
  return { model, inputs: graphTensors(graph.input ?? []), outputs: graphTensors(graph.output ?? []), spec };
}

const str = (fields: PbFields, field: string) => one(fields, field) as string;
const num = (fields: PbFields, field: string) => one(fields, field) as number;
const ident = (fields: PbFields, field: string) => {
  const value = one(fields, field);
  assert.ok(value instanceof PbIdent, `${field} is written as an enum identifier, not a string`);
  return value.name;
};
const numbers = (fields: PbFields, field: string) => (fields[field] ?? []) as number[];

/** One line on stderr, prefixed footwear:, no stack trace; exit code 1. */
function assertOneLineError(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${run.stderr}`);
  assert.match(lines[0], /^footwear: /);
  assert.match(lines[0], pattern);
}

describe('footwear export triton', () => {
  let modelDir = '';
  let source: Buffer;
  let model: ReturnType<typeof readModel>;
  let work = '';

  before(async () => {
    modelDir = await trainedModel();
    source = await readFile(path.join(modelDir, 'model.onnx'));
    model = readModel(source);
    work = await mkdtemp(path.join(os.tmpdir(), 'footwear-triton-'));
  });

  test('config.pbtxt matches the ONNX graph; labels.txt is the spec; 1/model.onnx is the source', async () => {
    const repo = path.join(work, 'repo');
    const run = await footwear('export', 'triton', '--model', modelDir, '--out', repo, '--name', 'shoes', '--json');
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { name: string; dir: string; labels: string[]; files: { path: string; bytes: number }[] };
    assert.equal(printed.name, 'shoes');
    assert.equal(printed.dir, path.join(repo, 'shoes'));
    assert.deepEqual(printed.files.map((f) => f.path).sort(), ['shoes/1/model.onnx', 'shoes/config.pbtxt', 'shoes/labels.txt']);
    for (const f of printed.files) assert.equal((await readFile(path.join(repo, f.path))).length, f.bytes, `${f.path} size as printed`);

    const config = parsePbtxt(await readFile(path.join(repo, 'shoes', 'config.pbtxt'), 'utf8'));
    assert.equal(str(config, 'name'), 'shoes');
    assert.equal(str(config, 'platform'), 'onnxruntime_onnx');
    assert.equal(num(config, 'max_batch_size'), 64, 'the documented default');

    // The fixture's graph: one NHWC input and one output, both with a dynamic batch dimension.
    assert.equal(model.inputs.length, 1);
    const [graphIn] = model.inputs;
    const graphOut = model.outputs.find((o) => o.name === model.spec.outputName) as GraphTensor;
    assert.equal(graphIn.dims[0], null, 'the fixture exports a dynamic batch');
    assert.equal(graphIn.elemType, onnx.TensorProto.DataType.FLOAT);

    const [input] = messages(config, 'input');
    assert.equal(messages(config, 'input').length, 1);
    assert.equal(str(input, 'name'), graphIn.name);
    assert.equal(str(input, 'name'), model.spec.inputName);
    assert.equal(ident(input, 'data_type'), 'TYPE_FP32');
    assert.deepEqual(numbers(input, 'dims'), graphIn.dims.slice(1), 'dims exclude the batch dimension');
    assert.deepEqual(numbers(input, 'dims'), [224, 224, 3]);

    const outputs = messages(config, 'output');
    assert.equal(outputs.length, model.outputs.length);
    const output = outputs.find((o) => str(o, 'name') === model.spec.outputName) as PbFields;
    assert.ok(output, `an output named ${model.spec.outputName}`);
    assert.equal(graphOut.elemType, onnx.TensorProto.DataType.FLOAT);
    assert.equal(ident(output, 'data_type'), 'TYPE_FP32');
    assert.deepEqual(numbers(output, 'dims'), graphOut.dims.slice(1));
    assert.deepEqual(numbers(output, 'dims'), [model.spec.labels.length]);
    assert.equal(str(output, 'label_filename'), 'labels.txt');

    const batching = oneMessage(config, 'dynamic_batching');
    assert.equal(num(batching, 'max_queue_delay_microseconds'), 1000);
    assert.equal(batching.preferred_batch_size, undefined, 'no preferred sizes unless asked');
    const groups = messages(config, 'instance_group');
    assert.equal(groups.length, 1);
    assert.equal(num(groups[0], 'count'), 1);
    assert.equal(ident(groups[0], 'kind'), 'KIND_CPU');
    assert.equal(config.optimization, undefined, 'no TensorRT without --gpu');

    const labels = await readFile(path.join(repo, 'shoes', 'labels.txt'), 'utf8');
    assert.equal(labels, `${model.spec.labels.join('\n')}\n`);
    assert.deepEqual(labels.trimEnd().split('\n'), ['Boot', 'Sandal', 'Shoe']);
    assert.ok((await readFile(path.join(repo, 'shoes', '1', 'model.onnx'))).equals(source), 'model.onnx is byte for byte the source');

    // Nothing but the entry: no staging folder left in the repository or beside it.
    assert.deepEqual(await readdir(repo), ['shoes']);
    assert.deepEqual((await readdir(work)).filter((n) => n.includes('footwear-export')), []);
  });

  test('--gpu: KIND_GPU instances, TensorRT in FP16 with the reason in a comment; re-export replaces only its entry', async () => {
    const repo = path.join(work, 'gpu-repo');
    assert.equal((await footwear('export', 'triton', '--model', modelDir, '--out', repo, '--name', 'shoes')).code, 0);
    await mkdir(path.join(repo, 'other'));
    await writeFile(path.join(repo, 'other', 'config.pbtxt'), 'name: "other"\n');
    await writeFile(path.join(repo, 'shoes', 'stale.txt'), 'from an earlier export');

    const run = await footwear('export', 'triton', '--model', path.join(modelDir, 'model.onnx'), '--out', repo, '--name', 'shoes', '--gpu', '--instances', '2', '--max-batch-size', '32', '--preferred-batch-sizes', '16,32', '--max-queue-delay-us', '250');
    assert.equal(run.code, 0, run.stderr);
    const text = await readFile(path.join(repo, 'shoes', 'config.pbtxt'), 'utf8');
    const config = parsePbtxt(text);
    assert.equal(num(config, 'max_batch_size'), 32);
    const batching = oneMessage(config, 'dynamic_batching');
    assert.deepEqual(numbers(batching, 'preferred_batch_size'), [16, 32]);
    assert.equal(num(batching, 'max_queue_delay_microseconds'), 250);
    const [group] = messages(config, 'instance_group');
    assert.equal(ident(group, 'kind'), 'KIND_GPU');
    assert.equal(num(group, 'count'), 2);
    const accelerators = messages(oneMessage(oneMessage(config, 'optimization'), 'execution_accelerators'), 'gpu_execution_accelerator');
    assert.equal(accelerators.length, 1);
    assert.equal(str(accelerators[0], 'name'), 'tensorrt');
    const parameters = Object.fromEntries(messages(accelerators[0], 'parameters').map((p) => [str(p, 'key'), str(p, 'value')]));
    assert.equal(parameters.precision_mode, 'FP16');
    // The comment right above `optimization` says why it is there.
    const lines = text.split('\n');
    let at = lines.indexOf('optimization {');
    const comment: string[] = [];
    while (at > 0 && lines[at - 1].startsWith('#')) comment.unshift(lines[--at]);
    assert.match(comment.join(' '), /TensorRT/, 'the comment above optimization says what it does');
    assert.match(comment.join(' '), /FP16/);

    assert.deepEqual((await readdir(repo)).sort(), ['other', 'shoes'], 'the other model is left alone');
    assert.equal(await readFile(path.join(repo, 'other', 'config.pbtxt'), 'utf8'), 'name: "other"\n');
    assert.deepEqual((await readdir(path.join(repo, 'shoes'))).sort(), ['1', 'config.pbtxt', 'labels.txt'], 'the earlier entry is replaced whole');
  });

  test('--max-batch-size 0: full shapes, the dynamic batch as -1, no dynamic_batching; default name is the folder', async () => {
    const repo = path.join(work, 'unbatched');
    const run = await footwear('export', 'triton', '--model', modelDir, '--out', repo, '--max-batch-size', '0');
    assert.equal(run.code, 0, run.stderr);
    const name = path.basename(modelDir);
    assert.match(run.stderr, new RegExp(`tritonserver --model-repository ${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const config = parsePbtxt(await readFile(path.join(repo, name, 'config.pbtxt'), 'utf8'));
    assert.equal(str(config, 'name'), name);
    assert.equal(num(config, 'max_batch_size'), 0);
    assert.deepEqual(numbers(messages(config, 'input')[0], 'dims'), [-1, 224, 224, 3]);
    assert.deepEqual(numbers(messages(config, 'output')[0], 'dims'), [-1, 3]);
    assert.equal(config.dynamic_batching, undefined);
  });

  test('a fixed batch dimension: one line naming the file, the input, its shape and the flag; nothing written', async () => {
    const fixed = onnx.ModelProto.decode(source);
    const graph = fixed.graph as onnxProto.onnx.GraphProto;
    for (const v of [...graph.input, ...graph.output]) {
      const first = (v.type?.tensorType?.shape?.dim ?? [])[0] as onnxProto.onnx.TensorShapeProto.Dimension;
      first.dimParam = undefined as unknown as string;
      first.dimValue = 1;
    }
    const file = path.join(work, 'fixed-batch.onnx');
    await writeFile(file, onnx.ModelProto.encode(fixed).finish());
    assert.equal(readModel(await readFile(file)).inputs[0].dims[0], 1, 'the rewritten model has batch 1');

    const repo = path.join(work, 'fixed-repo');
    const run = await footwear('export', 'triton', '--model', file, '--out', repo);
    assertOneLineError(run, /fixed-batch\.onnx: input "input" has shape \[1, 224, 224, 3\], expected a dynamic first \(batch\) dimension for --max-batch-size 64/);
    assert.match(run.stderr, /--max-batch-size 0/, 'says how to export it anyway');
    assert.deepEqual(await readdir(repo).catch(() => []), [], 'no entry written');

    // Unbatched, the same file exports, with its fixed shape.
    assert.equal((await footwear('export', 'triton', '--model', file, '--out', repo, '--max-batch-size', '0')).code, 0);
    const config = parsePbtxt(await readFile(path.join(repo, 'fixed-batch', 'config.pbtxt'), 'utf8'));
    assert.deepEqual(numbers(messages(config, 'input')[0], 'dims'), [1, 224, 224, 3]);
  });

  test('missing or unusable models: one line naming the file and what was expected', async () => {
    const repo = path.join(work, 'bad-repo');
    const missing = path.join(work, 'no-such-model');
    assertOneLineError(await footwear('export', 'triton', '--model', missing, '--out', repo), new RegExp(`--model ${missing}: no such file or folder, expected a model folder or an \\.onnx file`));

    const empty = path.join(work, 'empty-folder');
    await mkdir(empty);
    assertOneLineError(await footwear('export', 'triton', '--model', empty, '--out', repo), /--model .*empty-folder: the folder has no model\.onnx/);

    const text = path.join(work, 'notes.onnx');
    await writeFile(text, 'this is not a model');
    assertOneLineError(await footwear('export', 'triton', '--model', text, '--out', repo), /notes\.onnx: not (a valid|an) ONNX model/);

    const bare = onnx.ModelProto.decode(source);
    bare.metadataProps = [];
    const noSpec = path.join(work, 'no-spec.onnx');
    await writeFile(noSpec, onnx.ModelProto.encode(bare).finish());
    assertOneLineError(await footwear('export', 'triton', '--model', noSpec, '--out', repo), /no-spec\.onnx: no "footwear\.spec" metadata/);
    assert.deepEqual(await readdir(repo).catch(() => []), []);
  });

  test('bad flags: one line naming the flag, what it expects and what it got', async () => {
    const repo = path.join(work, 'flags-repo');
    const cases: [Partial<ExportTritonOptions>, RegExp][] = [
      [{ preferredBatchSizes: [128] }, /^--preferred-batch-sizes should be integers from 1 to --max-batch-size \(64\), got 128$/],
      [{ maxBatchSize: 0, preferredBatchSizes: [4] }, /^--preferred-batch-sizes needs batching, but --max-batch-size is 0/],
      [{ name: '../escape' }, /^--name should be .* got "\.\.\/escape"$/],
      [{ maxBatchSize: 2.5 }, /^--max-batch-size should be an integer >= 0, got 2\.5$/],
      [{ instances: 0 }, /^--instances should be an integer >= 1, got 0$/],
      [{ maxQueueDelayUs: -5 }, /^--max-queue-delay-us should be an integer >= 0, got -5$/],
    ];
    for (const [flags, message] of cases) {
      await assert.rejects(exportTriton({ model: modelDir, out: repo, ...flags }), (error: Error) => {
        assert.equal(error.name, 'ExportError', 'a user error: the CLI prints its message alone');
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }
    assert.throws(() => parseBatchSizes('16,sixteen'), /^ExportError: --preferred-batch-sizes should be comma-separated integers like 16,32, got "16,sixteen"$/);
    assert.deepEqual(parseBatchSizes(' 16, 32 '), [16, 32]);
    // Through the CLI, the same errors are one line and exit 1.
    assertOneLineError(await footwear('export', 'triton', '--model', modelDir, '--out', repo, '--preferred-batch-sizes', 'a,b'), /--preferred-batch-sizes should be comma-separated integers/);
    assert.deepEqual(await readdir(repo).catch(() => []), []);
  });

  test('--help: every flag has a description and a default (or is required), and there are examples', async () => {
    const run = await footwear('export', 'triton', '--help');
    assert.equal(run.code, 0, run.stderr);
    // yargs wraps an option's entry over several lines; each entry starts with "  --".
    const entries = new Map<string, string>();
    let current = '';
    for (const line of run.stdout.split('\n')) {
      const m = /^ {2}--([a-z-]+)/.exec(line);
      if (m) entries.set((current = m[1]), line);
      else if (current && /^ {3,}\S/.test(line)) entries.set(current, `${entries.get(current)} ${line.trim()}`);
      else current = '';
    }
    const flags = ['model', 'out', 'name', 'max-batch-size', 'preferred-batch-sizes', 'max-queue-delay-us', 'instances', 'gpu', 'json'];
    for (const flag of flags) {
      const entry = entries.get(flag);
      assert.ok(entry, `--${flag} is listed`);
      assert.match(entry, new RegExp(`--${flag}\\s+\\S+.*\\[(string|number|boolean)\\]`), `--${flag} has a description and a type`);
      assert.match(entry, flag === 'model' || flag === 'out' ? /\[required\]/ : /\[default: [^\]]+\]/, `--${flag} shows its default`);
    }
    assert.match(run.stdout, /Examples:\n\s+footwear export triton --model/);
  });

  test("the test's pbtxt reader reads the format's variations, and the writer's strings read back", () => {
    const text = [
      '# comment',
      'name: "a" "b"  # adjacent strings join',
      'max_batch_size: 8;',
      'input [ { name: "x", dims: [1, -1] }, < name: \'y\' dims: 2 dims: 3 > ]',
      'dynamic_batching { }',
      'kind: KIND_GPU',
      'escaped: "tab\\there \\"q\\" \\303\\251"',
    ].join('\n');
    const fields = parsePbtxt(text);
    assert.equal(fields.name[0], 'ab');
    assert.equal(fields.max_batch_size[0], 8);
    const inputs = messages(fields, 'input');
    assert.deepEqual(inputs.map((i) => [i.name[0], i.dims]), [['x', [1, -1]], ['y', [2, 3]]]);
    assert.deepEqual(fields.dynamic_batching, [{}]);
    assert.equal(ident(fields, 'kind'), 'KIND_GPU');
    assert.equal(fields.escaped[0], 'tab\there "q" é');
    assert.throws(() => parsePbtxt('name "a"'), /needs ":"/);
    assert.throws(() => parsePbtxt('input { name: "x"'), /missing "}"/);

    const tricky = 'quote " backslash \\ newline \n tab \t bell \x07 unicode é 👟';
    const written = formatPbtxt({ label: tricky, list: ['a', 'b'], kind: new PbEnum('KIND_CPU'), nested: { on: true } });
    const read = parsePbtxt(written);
    assert.equal(read.label[0], tricky);
    assert.deepEqual(read.list, ['a', 'b']);
    assert.equal(ident(read, 'kind'), 'KIND_CPU');
    assert.deepEqual(oneMessage(read, 'nested').on.map((v) => (v as PbIdent).name), ['true']);
  });
});
