import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CPU_HEADING, GPU_HEADING, GPU_NOT_MEASURED, markdownSection, runBench, writeReport, type BenchReport } from '../bench/infer/index.ts';
import { CUDA_INSTALL_HINT, ProviderError, resolveRuntime } from '../src/core/index.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { SHOES } from '../fixtures/shared-data.ts';

// The bench is run for real, on the trained fixture model and a few real photos. Rates depend on
// the machine and its load, so nothing here compares them: only that each is a measured,
// positive, finite number in the documented place.

const DATA = path.join(SHOES, 'test');
let work: string;
let modelDir: string;
let plain: BenchReport;

const positiveFinite = (value: unknown, what: string) => assert.ok(typeof value === 'number' && Number.isFinite(value) && value > 0, `${what} = ${value}`);

/** A model folder of links to the fixture, so int8/fp16 files can be added without touching it. */
async function modelFolder(name: string): Promise<string> {
  const source = await trainedModel();
  const dir = path.join(work, name);
  await mkdir(dir);
  await symlink(path.join(source, 'model.onnx'), path.join(dir, 'model.onnx'));
  await symlink(path.join(source, 'tfjs'), path.join(dir, 'tfjs'));
  return dir;
}

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'footwear-bench-'));
  modelDir = await modelFolder('plain');
  plain = await runBench({ model: modelDir, data: DATA, images: 24, baselineImages: 8, batchSizes: [1, 8], batchSize: 8, ep: 'cpu' });
});

after(() => rm(work, { recursive: true, force: true }));

describe('footwear bench', () => {
  test('the report has every documented field, each rate positive and finite', () => {
    const r = plain;
    for (const key of ['machine', 'date', 'model', 'data', 'executionProvider'] as const) assert.equal(typeof r[key], 'string', key);
    assert.equal(r.images, 24);
    assert.equal(r.executionProvider, 'cpu');
    assert.equal(r.threads, null);
    assert.ok(Number.isFinite(r.loadAverage.start) && Number.isFinite(r.loadAverage.end));
    positiveFinite(r.peakRssMiB, 'peakRssMiB');
    positiveFinite(r.rawOrt.batch1, 'rawOrt.batch1');
    positiveFinite(r.rawOrt.best, 'rawOrt.best');
    assert.ok([1, 8].includes(r.rawOrt.bestBatchSize));
    positiveFinite(r.predict, 'predict');
    positiveFinite(r.tfjs, 'tfjs');
    positiveFinite(r.ortWeb, 'ortWeb');
    positiveFinite(r.latency.p50Ms, 'p50');
    positiveFinite(r.latency.p99Ms, 'p99');
    assert.ok(r.latency.p50Ms <= r.latency.p99Ms);
    assert.equal(r.latency.images, 24);
    // The goal ratio comes from rounds alternating predict with the raw model at its best size.
    assert.equal(r.pairing.rounds, 3);
    assert.equal(r.pairing.rawBatchSize, r.rawOrt.bestBatchSize);
    for (const rate of [...r.pairing.raw, ...r.pairing.predict]) positiveFinite(rate, 'pairing rate');
    assert.equal(r.pairing.raw.length, 3);
    assert.equal(r.pairing.predict.length, 3);
    positiveFinite(r.ratios.predictOverRawOrt.value, 'predict / raw');
    positiveFinite(r.variants[0].predictOverRawOrt, 'fp32 predict / raw');
    assert.equal(r.ratios.predictOverRawOrt.goal, 0.8);
    positiveFinite(r.ratios.predictOverTfjs?.value, 'predict / TF.js');
    assert.equal(r.ratios.predictOverTfjs?.goal, 10);
    assert.deepEqual(r.skipped, []);
    // The CPU budget is computed from the rows it names.
    const best = r.rows.find((row) => row.kind === 'raw-ort' && row.best);
    const preparing = r.rows.find((row) => row.kind === 'prepare');
    assert.equal(r.cpuBudget.modelCpuMs, best?.cpuMsPerImage);
    assert.equal(r.cpuBudget.prepareCpuMs, preparing?.cpuMsPerImage);
    assert.ok(r.cpuBudget.cores >= 1 && r.cpuBudget.ceilingRatio > 0 && r.cpuBudget.ceilingRatio <= 1);
    assert.ok(Math.abs(r.cpuBudget.ceilingRate - (r.cpuBudget.cores * 1000) / (r.cpuBudget.modelCpuMs + r.cpuBudget.prepareCpuMs)) < 0.1);
    // Valid JSON all the way down (what --json prints).
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });

  test('rows: the raw sweep with one best, predict, latency, onnxruntime-web and TF.js', () => {
    const kinds = plain.rows.map((r) => `${r.kind}/${r.batchSize}`);
    // onnxruntime-web runs batch 1 and the raw sweep's best size, which may be 1 itself.
    const web = plain.rawOrt.bestBatchSize === 1 ? ['ort-web/1'] : ['ort-web/1', `ort-web/${plain.rawOrt.bestBatchSize}`];
    assert.deepEqual(kinds, ['raw-ort/1', 'raw-ort/8', 'predict/8', 'predict-latency/1', 'prepare-sharp/1', 'prepare/1', ...web, 'tfjs/8']);
    for (const row of plain.rows) {
      assert.equal(row.variant, 'fp32');
      for (const key of ['imagesPerSecond', 'msPerImage', 'cpuMsPerImage', 'seconds', 'images', 'peakRssMiB'] as const) positiveFinite(row[key], `${row.kind}/${row.batchSize} ${key}`);
      assert.ok(Number.isFinite(row.load1m));
      assert.equal(typeof row.runtime, 'string');
    }
    assert.equal(plain.rows.filter((r) => r.kind === 'raw-ort' && r.best).length, 1);
    // The slow baselines time baselineImages photos, the rest all 24.
    for (const row of plain.rows) assert.equal(row.images, row.kind === 'tfjs' || row.kind === 'ort-web' ? 8 : 24, `${row.kind}/${row.batchSize}`);
  });

  test('without int8/fp16 files there are no int8/fp16 rows', () => {
    assert.deepEqual(plain.variants.map((v) => [v.variant, v.status]), [['fp32', 'measured']]);
    assert.ok(plain.rows.every((r) => r.variant === 'fp32'));
  });

  test('int8/fp16 files are benched when present; one that cannot run is reported, not fatal', async () => {
    const dir = await modelFolder('quantised');
    // Stand-ins: a copy of the fp32 model runs as any model does; garbage fails to load.
    await copyFile(path.join(modelDir, 'model.onnx'), path.join(dir, 'model.int8.onnx'));
    await writeFile(path.join(dir, 'model.fp16.onnx'), 'not a model');
    const r = await runBench({ model: dir, data: DATA, images: 6, batchSizes: [1, 2], batchSize: 2, ep: 'cpu', tfjs: false, ortWeb: false });
    assert.deepEqual(r.variants.map((v) => [v.variant, v.status]), [['fp32', 'measured'], ['int8', 'measured'], ['fp16', 'failed']]);
    assert.match(r.variants[2].error ?? '', /model\.fp16\.onnx/);
    const int8 = r.rows.filter((row) => row.variant === 'int8').map((row) => `${row.kind}/${row.batchSize}`);
    assert.deepEqual(int8, [...new Set(['raw-ort/1', `raw-ort/${r.rawOrt.bestBatchSize}`])].concat('predict/2'));
    for (const row of r.rows) positiveFinite(row.imagesPerSecond, `${row.variant} ${row.kind}`);
    assert.ok(r.rows.every((row) => row.variant !== 'fp16'));
    assert.equal(r.tfjs, undefined);
    assert.equal(r.ratios.predictOverTfjs, undefined);
  });

  test('--write keeps an Inference section with the goals, and says the GPU was not measured', async () => {
    const file = path.join(work, 'BENCHMARKS.md');
    await writeFile(file, '# Benchmarks\n\n## Server\n\nkept as it was\n');
    assert.deepEqual(await writeReport({ ...plain, command: 'footwear bench --model M --data D --write' }, file), [CPU_HEADING, GPU_HEADING]);
    const text = await readFile(file, 'utf8');
    assert.match(text, /## Server\n\nkept as it was/);
    assert.match(text, /^## Inference$/m);
    assert.match(text, /1-minute load average/);
    assert.match(text, /`footwear bench --model M --data D --write`/);
    assert.match(text, /predict \/ raw ONNX Runtime: \*\*[\d.]+x\*\* \(goal >= 0\.8x/);
    assert.match(text, /predict \/ TF\.js.*goal >= 10x/);
    assert.ok(text.includes(`## Inference: GPU\n\n- ${GPU_NOT_MEASURED}`));
    assert.ok(markdownSection(plain).includes('| model alone, ready tensors | onnxruntime-node (cpu) | fp32 | 1 |'));
  });

  test('--ep cuda without CUDA stops at once with the install hint', async (t) => {
    const reason = await (await resolveRuntime()).unavailableReason?.('cuda');
    if (reason === undefined) return t.skip('CUDA is installed here');
    await assert.rejects(runBench({ model: modelDir, data: DATA, images: 2, ep: 'cuda' }), (error: Error) => {
      assert.ok(error instanceof ProviderError);
      assert.ok(error.message.includes(CUDA_INSTALL_HINT), error.message);
      return true;
    });
  });

  test('bad arguments are RangeErrors; an empty data folder says what it needs', async () => {
    await assert.rejects(runBench({ model: modelDir, data: DATA, images: 0 }), RangeError);
    await assert.rejects(runBench({ model: modelDir, data: DATA, batchSizes: [4, -1] }), RangeError);
    await assert.rejects(runBench({ model: modelDir, data: work, images: 2, ep: 'cpu' }), /no image files found/);
  });
});
