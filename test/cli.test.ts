import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { footwear } from './support/cli.ts';

/** Six real photos (two per class) plus a corrupt, an empty and a non-image file. */
async function mixedFolder(): Promise<{ dir: string; good: { label: string; file: string }[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-predict-'));
  const good = await firstFiles(path.join(SHOES, 'test'), 2);
  await mkdir(path.join(dir, 'nested'));
  for (const [i, g] of good.entries()) await copyFile(g.file, path.join(dir, i % 2 ? 'nested' : '', path.basename(g.file)));
  const jpeg = await readFile(good[0].file);
  await writeFile(path.join(dir, 'truncated, half.jpg'), jpeg.subarray(0, 200));
  await writeFile(path.join(dir, 'empty.jpg'), '');
  await writeFile(path.join(dir, 'notes.png'), 'this is text, not a picture');
  return { dir, good };
}

test('predict --csv: every photo predicted, each bad file an error row naming it, exit code 1', async () => {
  const model = await trainedModel();
  const { dir, good } = await mixedFolder();
  const csv = path.join(dir, 'out', 'predictions.csv');
  const r = await footwear('predict', '--model', model, dir, '--csv', csv);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /6 predicted, 3 failed/);
  const rows = (await readFile(csv, 'utf8')).trim().split('\r\n');
  assert.equal(rows[0], 'file,label,score,error');
  assert.equal(rows.length, 1 + 9);
  const errorRows = rows.filter((row) => /,,,|,,(empty|undecodable|unsupported)/.test(row) || /(empty|undecodable|unsupported):/.test(row));
  assert.equal(errorRows.length, 3);
  assert.ok(rows.some((row) => row.startsWith(`"${path.join(dir, 'truncated, half.jpg')}"`)), 'a name with a comma is quoted');
  const predicted = rows.slice(1).filter((row) => /,(Boot|Sandal|Shoe),/.test(row));
  assert.equal(predicted.length, good.length);
});

test('predict --json: results in order with labels, scores and top-k; exit 0 when all succeed', async () => {
  const model = await trainedModel();
  const files = (await firstFiles(path.join(SHOES, 'test'), 2)).map((g) => g.file);
  const r = await footwear('predict', '--model', path.join(model, 'model.onnx'), ...files, '--json', '--top-k', '2', '--ep', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { executionProvider: string; seconds: number; photosPerSecond: number; results: { file: string; label: string; score: number; topK: { label: string; score: number }[] }[] };
  assert.equal(out.executionProvider, 'cpu');
  // predict says its own rate, in JSON and in its last line, and the two agree.
  // Both are rounded (seconds to the ms, the rate to 0.1): rate x time gives back the photo count
  // within what those roundings allow.
  const slack = 0.05 * out.seconds + 0.0005 * out.photosPerSecond + 1e-9;
  assert.ok(out.seconds > 0 && Math.abs(out.photosPerSecond * out.seconds - files.length) <= slack, JSON.stringify(out));
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const said = /^(\d+) predicted, 0 failed in ([\d.]+) s \(([\d.]+) photos\/s; execution provider: cpu\)$/.exec(last);
  assert.ok(said, last);
  assert.equal(Number(said[1]), files.length);
  assert.equal(Number(said[3]), out.photosPerSecond);
  assert.deepEqual(out.results.map((x) => x.file), files);
  for (const x of out.results) {
    assert.equal(x.topK.length, 2);
    assert.equal(x.topK[0].label, x.label);
    assert.ok(x.topK[0].score >= x.topK[1].score && x.score > 0.33 && x.score <= 1);
  }
});

test('eval --json reports accuracy, confusion and per-class metrics that agree with each other', async () => {
  const model = await trainedModel();
  const r = await footwear('eval', '--model', model, '--data', path.join(SHOES, 'test'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { accuracy: number; n: number; labels: string[]; confusion: number[][]; perClass: { support: number; recall: number }[] };
  assert.equal(report.n, 1800);
  assert.deepEqual(report.labels, ['Boot', 'Sandal', 'Shoe']);
  const diagonal = report.confusion.reduce((a, row, i) => a + row[i], 0);
  assert.equal(report.accuracy, diagonal / 1800);
  assert.deepEqual(report.perClass.map((c) => c.support), [600, 600, 600]);
  // 40 photos per class, no augmentation, train this small model: still far above chance (1/3)
  assert.ok(report.accuracy > 0.6, `accuracy ${report.accuracy}`);
});

test('--ep with an unknown value fails listing the valid ones', async () => {
  const model = await trainedModel();
  const r = await footwear('predict', '--model', model, 'x.jpg', '--ep', 'gpu');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^footwear: --ep should be one of auto\|cpu\|cuda, got "gpu"$/m);
});

test('train on a one-class folder stops with a clear message and no stack trace', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fw-one-'));
  await mkdir(path.join(root, 'Boot'));
  const [first] = await firstFiles(path.join(SHOES, 'test'), 1);
  await copyFile(first.file, path.join(root, 'Boot', 'a.jpg'));
  const r = await footwear('train', '--data', root, '--out', path.join(root, 'model'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^footwear: .*found 1 class folder\(s\) \(Boot\); a classifier needs at least 2/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('predict with a file that is not a model names the file and the reason', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-badmodel-'));
  await writeFile(path.join(dir, 'model.onnx'), 'not a model');
  const r = await footwear('predict', '--model', dir, 'x.jpg');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^footwear: .*model\.onnx/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('doctor --json lists versions, the TF.js backend and the execution providers', async () => {
  const r = await footwear('doctor', '--json');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { packages: Record<string, string | null>; tfjs: { backend: string }; onnxruntime: { providers: Record<string, string> }; hints: string[] };
  assert.match(d.packages['onnxruntime-node'] ?? '', /^\d+\.\d+\.\d+$/);
  assert.match(d.packages['@tensorflow/tfjs'] ?? '', /^\d+\.\d+\.\d+$/);
  assert.match(d.packages['onnxruntime-web'] ?? '', /^\d+\.\d+\.\d+$/, 'found even though its exports hide package.json');
  assert.ok('@tensorflow/tfjs-node-gpu' in d.packages, 'optional peers are listed, installed or not');
  assert.ok(['wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'].includes(d.tfjs.backend));
  assert.equal(d.onnxruntime.providers.cpu, 'available');
  assert.ok('cuda' in d.onnxruntime.providers);
  if (d.onnxruntime.providers.cuda !== 'available') assert.ok(d.hints.some((h) => h.includes('ONNXRUNTIME_NODE_INSTALL=cuda12')));
});

test('convert --verify re-exports the TF.js model to the same ONNX bytes, checked against TF.js', async () => {
  const model = await trainedModel();
  const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'fw-convert-')), 'again.onnx');
  const r = await footwear('convert', '--model', model, '--out', out, '--verify', '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { path: string; labels: string[]; verification: { maxAbsDiff: number; sameArgmax: number; n: number } };
  assert.equal(result.path, out);
  assert.deepEqual(result.labels, ['Boot', 'Sandal', 'Shoe']);
  assert.ok(result.verification.maxAbsDiff <= 1e-4 && result.verification.sameArgmax === result.verification.n);
  assert.ok(Buffer.compare(await readFile(out), await readFile(path.join(model, 'model.onnx'))) === 0, 'the export is deterministic');
});

test('convert on a folder without a TF.js model says what is missing', async () => {
  const r = await footwear('convert', '--model', await mkdtemp(path.join(os.tmpdir(), 'fw-empty-')));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^footwear: .*no TF\.js model at .*tfjs\/model\.json/m);
});

test('flag errors name the flag as typed, what it takes and what came, before any model is loaded', async () => {
  const cases: [string[], string][] = [
    [['predict', '--model', 'nowhere', 'x.jpg', '--top-k', '0'], '--top-k should be a positive integer, got 0'],
    [['predict', '--model', 'nowhere', 'x.jpg', '--top-k', 'many'], '--top-k should be a positive integer, got a value that is not a number'],
    [['predict', '--model', 'nowhere', 'x.jpg', '--batch-size', '-1'], '--batch-size should be a positive integer, got -1'],
    [['predict', '--model', 'nowhere', 'x.jpg', '--preprocess-workers', '1.5'], '--preprocess-workers should be an integer >= 0, got 1.5'],
    [['eval', '--model', 'nowhere', '--data', 'x', '--batch-size', '0'], '--batch-size should be a positive integer, got 0'],
    [['serve', '--model', 'nowhere', '--max-batch', '0'], '--max-batch should be an integer >= 1, got 0'],
    [['train', '--data', 'nowhere', '--epochs', '-1'], '--epochs should be a positive integer, got -1'],
  ];
  const outcomes = await Promise.all(cases.map(([args]) => footwear(...args)));
  cases.forEach(([args, message], i) => {
    assert.equal(outcomes[i].code, 1, `${args.join(' ')}: ${outcomes[i].stderr}`);
    assert.equal(outcomes[i].stderr, `footwear: ${message}\n`, args.join(' '));
  });
});

test('predict --top-k: more than the model has labels is an error; the text output shows the k best', async () => {
  const model = await trainedModel();
  const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
  const tooMany = await footwear('predict', '--model', model, photo.file, '--top-k', '5');
  assert.equal(tooMany.code, 1);
  assert.equal(tooMany.stderr.trimEnd().split('\n').at(-1), "footwear: --top-k should be at most 3, the model's label count (Boot, Sandal, Shoe), got 5");
  const two = await footwear('predict', '--model', model, photo.file, '--top-k', '2');
  assert.equal(two.code, 0, two.stderr);
  assert.match(two.stderr, new RegExp(`^${photo.file.replace(/[()]/g, '\\$&')}: (Boot|Sandal|Shoe) [01]\\.\\d{4}, (Boot|Sandal|Shoe) [01]\\.\\d{4}$`, 'm'));
  const one = await footwear('predict', '--model', model, photo.file);
  assert.match(one.stderr, new RegExp(`^${photo.file.replace(/[()]/g, '\\$&')}: (Boot|Sandal|Shoe) [01]\\.\\d{4}$`, 'm'), 'without --top-k, the best label alone');
});

test('predict on a folder without images fails saying so; beside other inputs it is a warning', async () => {
  const empty = await mkdtemp(path.join(os.tmpdir(), 'fw-empty-folder-'));
  await writeFile(path.join(empty, 'notes.txt'), 'no photos here');
  const alone = await footwear('predict', '--model', 'nowhere', empty);
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, new RegExp(`^footwear: no images in ${empty} \\(looked for \\.jpg .* at any depth\\)\\n$`));
  const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
  const mixed = await footwear('predict', '--model', await trainedModel(), empty, photo.file);
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.match(mixed.stderr, new RegExp(`^warning: no images in ${empty} `, 'm'));
  assert.match(mixed.stderr, /^1 predicted, 0 failed/m);
});
