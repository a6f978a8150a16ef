import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TtaViews, parseTta, ttaName } from '../src/core/index.ts';
import { evaluate } from '../src/eval/index.ts';
import { loadModel, prepareFile, type Classifier } from '../src/node/index.ts';
import { startServer } from '../src/serve/index.ts';
import { SHARED_MISSING, SHOES, firstFiles, subsetDataset } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { footwear } from './support/cli.ts';

// Test-time augmentation (--tta): the views are made from the resized input and run as extra rows
// of the same batch; a photo's probabilities are the mean over its views. Real photos, the real
// trained fixture model, and the CLI and server as users run them.

/** The test's own left-right mirror of an HWC input, independent of tta.ts. */
function mirrored(input: Float32Array, height: number, width: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[(y * width + (width - 1 - x)) * 3 + c] = input[(y * width + x) * 3 + c];
    }
  }
  return out;
}

const argmax = (p: ArrayLike<number>) => Array.from(p).reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

describe('TtaViews on synthetic inputs', () => {
  // 6 x 4 pixels whose values say where they came from: value = y * 100 + x * 10 + channel.
  const [height, width] = [6, 4];
  const image = Float32Array.from({ length: height * width * 3 }, (_, i) => Math.floor(i / 3 / width) * 100 + (Math.floor(i / 3) % width) * 10 + (i % 3));

  test('settings parse to view counts and one name each; bad ones are refused', () => {
    assert.deepEqual(['off', 'mirror', '1', '2', '3', '4', ' Mirror '].map((t) => ttaName(parseTta(t) ?? 'off')), ['off', 'mirror', 'off', 'mirror', '3', '4', 'mirror']);
    for (const bad of ['', 'x', '0', '5', '2.5', '-1', 'flip']) assert.equal(parseTta(bad), undefined, bad);
    assert.throws(() => new TtaViews(5, height, width), /tta should be off, mirror or a view count from 1 to 4, got 5/);
  });

  test('view rows: the input, its mirror, a centre zoom, the zoom mirrored', () => {
    const views = new TtaViews(4, height, width);
    const size = image.length;
    const out = new Float32Array(4 * 2 * size);
    const batch = new Float32Array(2 * size);
    batch.set(image, 0);
    batch.set(mirrored(image, height, width), size);
    views.expand(batch, 2, out);
    // View-major: rows 0-1 are the inputs, 2-3 their mirrors, 4-5 zooms, 6-7 mirrored zooms.
    const row = (r: number) => out.subarray(r * size, (r + 1) * size);
    assert.deepEqual(row(0), image);
    assert.deepEqual(row(2), mirrored(image, height, width));
    assert.deepEqual(row(3), image, 'the mirror of the mirror is the photo');
    // A zoom enlarges about the centre: the corners move inwards, the middle stays near itself.
    const zoom = row(4);
    assert.ok(zoom[0] > image[0], `top-left corner samples further in (${zoom[0]} > ${image[0]})`);
    assert.ok(zoom[size - 3] < image[size - 3], 'bottom-right corner samples further in');
    assert.deepEqual(row(6), mirrored(zoom, height, width));
    // Bit-exact symmetry: the zoom of the mirrored photo is the mirror of the photo's zoom.
    assert.deepEqual(row(5), mirrored(zoom, height, width));
  });

  test('the average is the per-photo mean over views', () => {
    const views = new TtaViews('mirror', height, width);
    // 2 views x 2 photos x 3 classes, view by view.
    const probs = Float32Array.from([0.6, 0.3, 0.1, 0.2, 0.2, 0.6, 0.2, 0.7, 0.1, 0.4, 0.4, 0.2]);
    const mean = views.average(probs, 2, 3);
    assert.ok(maxDiff(mean, [0.4, 0.5, 0.1, 0.3, 0.3, 0.4]) < 1e-6, String(Array.from(mean)));
  });
});

describe('--tta on real photos', { skip: SHARED_MISSING }, () => {
  let modelDir = '';
  let plain: Classifier;
  let mirror: Classifier;
  let four: Classifier;
  let photos: { label: string; file: string; input: Float32Array }[] = [];

  before(async () => {
    modelDir = await trainedModel();
    [plain, mirror, four] = await Promise.all([loadModel(modelDir, { ep: 'cpu' }), loadModel(modelDir, { ep: 'cpu', tta: 'mirror' }), loadModel(modelDir, { ep: 'cpu', tta: 4 })]);
    const spec = plain.spec.preprocess;
    for (const { label, file } of await firstFiles(path.join(SHOES, 'test'), 4)) {
      const prepared = await prepareFile(file, spec);
      assert.ok('input' in prepared, `${file} decodes`);
      photos.push({ label, file, input: prepared.input.slice() });
    }
  });

  after(async () => {
    await Promise.all([plain?.release(), mirror?.release(), four?.release()]);
    photos = [];
  });

  test('a photo and its mirror get the same TTA probabilities (2 and 4 views); plain inference tells them apart', async () => {
    const { height, width } = plain.spec.preprocess;
    const inputs = photos.map((p) => p.input);
    const flipped = inputs.map((input) => mirrored(input, height, width));
    const [plainA, plainB] = [await plain.classifyBatch(inputs), await plain.classifyBatch(flipped)];
    // Without TTA the model sees two different pictures: were they equal, this test would prove nothing.
    assert.ok(Math.max(...plainA.map((p, i) => maxDiff(p, plainB[i]))) > 1e-3, 'plain probabilities of a photo and its mirror differ');
    for (const classifier of [mirror, four]) {
      const [a, b] = [await classifier.classifyBatch(inputs), await classifier.classifyBatch(flipped)];
      a.forEach((p, i) => {
        assert.ok(maxDiff(p, b[i]) < 1e-5, `${classifier.tta}: ${photos[i].file}: ${Array.from(p)} vs ${Array.from(b[i])}`);
        assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-4, 'still a distribution');
      });
      // 2 views: exactly the mean of plain inference on the photo and on its mirror.
      if (classifier === mirror) a.forEach((p, i) => assert.ok(maxDiff(p, Array.from(p, (_, c) => (plainA[i][c] + plainB[i][c]) / 2)) < 1e-5));
    }
  });

  test('where plain inference is confident on a photo and its mirror, TTA gives its label to both', async () => {
    const { height, width } = plain.spec.preprocess;
    const inputs = photos.map((p) => p.input);
    const flipped = inputs.map((input) => mirrored(input, height, width));
    const [plainA, plainB] = [await plain.classifyBatch(inputs), await plain.classifyBatch(flipped)];
    const [ttaA, ttaB] = [await mirror.classifyBatch(inputs), await mirror.classifyBatch(flipped)];
    let confident = 0;
    photos.forEach((photo, i) => {
      const label = argmax(plainA[i]);
      if (!(plainA[i][label] >= 0.9 && plainB[i][label] >= 0.9)) return;
      confident++;
      assert.equal(plain.labels[argmax(ttaA[i])], plain.labels[label], photo.file);
      assert.equal(plain.labels[argmax(ttaB[i])], plain.labels[label], `${photo.file} mirrored`);
    });
    assert.ok(confident >= photos.length / 2, `the model is confident on most photos and their mirrors (${confident} of ${photos.length})`);
  });

  test('evaluate with TTA reports its accuracy and setting', async () => {
    const data = await subsetDataset(path.join(SHOES, 'test'), 20, 'shoes-test-tta');
    const [off, on] = [await evaluate(plain, data), await evaluate(mirror, data)];
    assert.equal(off.tta, 'off');
    assert.equal(on.tta, 'mirror');
    assert.equal(on.n, 60);
    assert.ok(on.accuracy >= 0.75, `accuracy with --tta mirror: ${on.accuracy}`);
    // One photo more or less right: the mirror view adds evidence, it does not replace the photo.
    assert.ok(Math.abs(on.accuracy - off.accuracy) <= 0.2, `off ${off.accuracy} vs mirror ${on.accuracy}`);
  });

  test('footwear eval --tta mirror --json records the setting beside the accuracy', { timeout: 180_000 }, async () => {
    const data = await subsetDataset(path.join(SHOES, 'test'), 10, 'shoes-test-tta');
    const r = await footwear('eval', '--model', modelDir, '--data', data, '--tta', 'mirror', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { tta: string; accuracy: number; n: number };
    assert.equal(report.tta, 'mirror');
    assert.equal(report.n, 30);
    assert.ok(report.accuracy >= 0.7, String(report.accuracy));
  });

  test('predict --jsonl rows record --tta; resuming with another --tta is refused in one line', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-tta-'));
    try {
      const files = photos.slice(0, 3).map((p) => p.file);
      const out = path.join(dir, 'out.jsonl');
      const first = await footwear('predict', '--model', modelDir, ...files, '--jsonl', out, '--tta', '4');
      assert.equal(first.code, 0, first.stderr);
      const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tta?: string; summary?: { tta: string } });
      assert.deepEqual(lines.slice(0, 3).map((l) => l.tta), ['4', '4', '4']);
      assert.equal(lines.at(-1)?.summary?.tta, '4');
      const again = await footwear('predict', '--model', modelDir, ...files, '--jsonl', out, '--resume');
      assert.equal(again.code, 1, again.stderr);
      const last = again.stderr.trimEnd().split('\n').at(-1) ?? '';
      assert.match(last, /^footwear: --jsonl .*out\.jsonl\.partial: cannot resume with --tta off: its rows were made with --tta 4; give --tta 4/);
      assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack trace');
      const same = await footwear('predict', '--model', modelDir, ...files, '--jsonl', out, '--resume', '--tta', '4');
      assert.equal(same.code, 0, same.stderr);
      assert.match(same.stderr, /3 listed file\(s\) already had a row/);
      // CSV: the setting gets its own column, and the header says so.
      const csv = path.join(dir, 'out.csv');
      const c = await footwear('predict', '--model', modelDir, files[0], '--csv', csv, '--tta', 'mirror');
      assert.equal(c.code, 0, c.stderr);
      const rows = (await readFile(csv, 'utf8')).trim().split('\r\n');
      assert.equal(rows[0], 'file,label,score,error,tta');
      assert.match(rows[1], /,mirror$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bad --tta is one line naming the flag, what it takes and what came, before any model loads', async () => {
    for (const [command, value] of [['predict', 'x'], ['eval', '5'], ['serve', '0']] as const) {
      const extra = command === 'predict' ? [photos[0].file] : command === 'eval' ? ['--data', path.join(SHOES, 'test')] : ['--port', '0'];
      const r = await footwear(command, '--model', modelDir, ...extra, '--tta', value);
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd(), `footwear: --tta should be off, mirror or a view count from 1 to 4, got "${value}"`, command);
    }
  });

  test('serve --tta mirror answers a real photo with its TTA label and score, and says so in /v1/model and v2 metadata', { timeout: 180_000 }, async () => {
    const server = await startServer({ model: modelDir, port: 0, tta: 'mirror', ep: 'cpu' });
    try {
      const model = (await (await fetch(`${server.url}/v1/model`)).json()) as { tta: string; model: string };
      assert.equal(model.tta, 'mirror');
      const v2 = (await (await fetch(`${server.url}/v2/models/${model.model}`)).json()) as { parameters: { tta: string } };
      assert.equal(v2.parameters.tta, 'mirror');
      for (const photo of photos.filter((_, i) => i % 2 === 0)) {
        const bytes = new Uint8Array(await readFile(photo.file));
        const response = await fetch(`${server.url}/v1/classify`, { method: 'POST', body: bytes, headers: { 'content-type': 'image/jpeg' } });
        assert.equal(response.status, 200);
        const body = (await response.json()) as { label: string; score: number };
        const local = await mirror.classifyImage(bytes, photo.file);
        assert.ok(!('error' in local));
        assert.equal(body.label, local.label, photo.file);
        assert.ok(Math.abs(body.score - local.score) < 1e-4, `${photo.file}: served ${body.score}, local TTA ${local.score}`);
      }
    } finally {
      await server.close();
    }
  });
});
