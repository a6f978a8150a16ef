import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { DatasetError, discoverDataset, seededRandom, walkImages } from '../src/data/index.ts';
import { decodeImage } from '../src/node/index.ts';
import { isFailure, ModelError, type PredictionResult } from '../src/core/index.ts';
import { loadModel, type Classifier } from '../src/node/index.ts';
import { SPEC_METADATA_KEY } from '../src/core/index.ts';
import { defaultTrainOptions, train, TrainError } from '../src/train/index.ts';
import { OutputError, writeFileAtomic } from '../src/node/index.ts';
import { makeBadCorpus, mutatedJpegs, SOURCE_PHOTO, type BadCorpus, type CorpusEntry } from '../fixtures/bad-inputs.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// Issue 7, outside the HTTP server: nothing a user sends may crash a run, hang it, exhaust
// memory, or corrupt a model or report already on disk. Inputs come from fixtures/bad-inputs.ts.

const { onnx } = onnxProto;
const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');
const ERROR_CODES = new Set(['unreadable', 'empty', 'undecodable', 'unsupported', 'too-large']);
const WHITE: [number, number, number] = [255, 255, 255];

/** Runs the CLI; the timeout turns a hang into a failure instead of a stuck test run. */
function footwear(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20, timeout: 60_000 }, (error, stdout, stderr) => {
      const e = error as (Error & { code?: number; killed?: boolean }) | null;
      if (e?.killed) stderr += '\n[killed after 60 s: the command hung]';
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr });
    });
  });
}

/** RFC 4180 rows (the CLI quotes fields holding commas or quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split('\r\n').filter(Boolean)) {
    const fields: string[] = [];
    for (let i = 0; i <= line.length; ) {
      if (line[i] === '"') {
        let value = '';
        for (i++; i < line.length; i++) {
          if (line[i] === '"' && line[i + 1] === '"') value += line[i++];
          else if (line[i] === '"') break;
          else value += line[i];
        }
        fields.push(value);
        i += 2;
      } else {
        const end = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
        fields.push(line.slice(i, end));
        i = end + 1;
      }
    }
    rows.push(fields);
  }
  return rows;
}

async function collect(iterable: AsyncIterable<PredictionResult>): Promise<PredictionResult[]> {
  const out: PredictionResult[] = [];
  for await (const result of iterable) out.push(result);
  return out;
}

/** Probability of every label, in label order, from a prediction with topK = all labels. */
function scores(result: PredictionResult, labels: readonly string[]): number[] {
  assert.ok(!isFailure(result), `${result.file}: ${isFailure(result) ? `${result.error.code}: ${result.error.message}` : ''}`);
  return labels.map((label) => result.topK.find((t) => t.label === label)?.score ?? NaN);
}

const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

const single = (message: string) => assert.equal(message.split('\n').length, 1, `one line expected: ${message}`);

let corpus: BadCorpus;
let modelDir: string;
let classifier: Classifier;
let work: string;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fw-robust-'));
  modelDir = await trainedModel();
  classifier = await loadModel(modelDir, { ep: 'cpu' });
  corpus = await makeBadCorpus();
});

after(async () => {
  await classifier?.release();
  await rm(work, { recursive: true, force: true });
  if (corpus) await rm(corpus.dir, { recursive: true, force: true });
});

const ofOutcome = (outcome: CorpusEntry['expect']['outcome']) => corpus.entries.filter((e) => e.expect.outcome === outcome);

describe('the bad-input corpus', () => {
  // Without this a fixture that quietly stopped being odd would let the behaviour tests pass for
  // nothing (a "greyscale" PNG once came out as RGB: sharp writes sRGB unless told otherwise).
  test('is what it claims: each oddity really has the format, depth, channels, frames or size named', async () => {
    const meta = (name: string) => sharp(path.join(corpus.dir, name)).metadata();
    assert.equal((await meta('cmyk.jpg')).space, 'cmyk');
    assert.equal((await meta('16-bit.png')).depth, 'ushort');
    assert.equal((await meta('greyscale.png')).channels, 1);
    assert.equal((await meta('palette.png')).isPalette, true);
    assert.ok((await meta('alpha.png')).hasAlpha);
    assert.equal((await meta('animated.gif')).pages, 2);
    for (let o = 1; o <= 8; o++) assert.equal((await meta(`exif-${o}.jpg`)).orientation, o);
    assert.deepEqual([(await meta('1x1.png')).width, (await meta('1x1.png')).height], [1, 1]);
    // sharp refuses even to read the header of an image over its default limit; lift it for this look.
    const bomb = await sharp(path.join(corpus.dir, 'bomb.png'), { limitInputPixels: false }).metadata();
    assert.deepEqual([bomb.width, bomb.height], [20000, 20000]);
    assert.ok((await stat(path.join(corpus.dir, 'bomb.png'))).size < 100_000, 'the bomb is cheap to make and to store');
    // The broken-CRC PNG differs from the lossless copy in exactly one byte.
    const [png, broken] = await Promise.all([readFile(corpus.original), readFile(path.join(corpus.dir, 'broken-crc.png'))]);
    assert.equal(png.length, broken.length);
    assert.equal(png.filter((b, i) => b !== broken[i]).length, 1);
    assert.ok((await lstat(path.join(corpus.dir, 'pipe.jpg'))).isFIFO());
    assert.equal(await readlink(path.join(corpus.dir, 'zeros.jpg')), '/dev/zero');
    const huge = await stat(path.join(corpus.dir, 'huge.jpg'));
    assert.ok(huge.size === 1024 ** 3 && huge.blocks * 512 < 1 << 20, 'huge.jpg is 1 GiB but sparse');
    const names = await readdir(corpus.dir, { encoding: 'buffer' });
    assert.ok(names.some((n) => n.includes(0xe9) && !n.toString('utf8').includes('\u00e9')), 'a name holds the lone byte 0xE9');
  });
});

describe('decoding odd images', () => {
  test('every EXIF orientation 1-8 displays upright: decoded pixels match the photo', async () => {
    const base = await decodeImage(await readFile(SOURCE_PHOTO), SOURCE_PHOTO, WHITE);
    for (let o = 1; o <= 8; o++) {
      const file = path.join(corpus.dir, `exif-${o}.jpg`);
      const bytes = await readFile(file);
      const decoded = await decodeImage(bytes, file, WHITE);
      assert.deepEqual([decoded.width, decoded.height], [base.width, base.height], `orientation ${o}`);
      // JPEG at quality 100 without chroma subsampling moves pixels by well under 1 level on average.
      assert.ok(meanAbsDiff(decoded.data, base.data) < 1, `orientation ${o}: mean difference ${meanAbsDiff(decoded.data, base.data)}`);
      if (o >= 2 && o <= 4) {
        // Same size but stored flipped: a decoder ignoring the tag would be far off, so the check above can fail.
        const stored = await sharp(bytes).removeAlpha().raw().toBuffer();
        assert.ok(meanAbsDiff(stored, base.data) > 10, `orientation ${o} is stored visibly transformed`);
      }
    }
  });

  test('an animated GIF decodes to its first frame, not the second (the negative)', async () => {
    const base = await decodeImage(await readFile(SOURCE_PHOTO), SOURCE_PHOTO, WHITE);
    const decoded = await decodeImage(await readFile(path.join(corpus.dir, 'animated.gif')), 'animated.gif', WHITE);
    assert.deepEqual([decoded.width, decoded.height], [base.width, base.height]);
    assert.ok(meanAbsDiff(decoded.data, base.data) < 2, `first frame: ${meanAbsDiff(decoded.data, base.data)}`);
  });

  test('transparency is flattened onto white; 16-bit, palette and CMYK come out as 8-bit sRGB of the same photo', async () => {
    const base = await decodeImage(await readFile(SOURCE_PHOTO), SOURCE_PHOTO, WHITE);
    const decode = async (name: string) => decodeImage(await readFile(path.join(corpus.dir, name)), name, WHITE);
    assert.deepEqual((await decode('alpha.png')).data, (await decode('alpha-flattened.png')).data);
    assert.deepEqual((await decode('16-bit.png')).data, base.data);
    assert.deepEqual((await decode('greyscale.png')).data, (await decode('grey-as-rgb.png')).data);
    assert.ok(meanAbsDiff((await decode('palette.png')).data, base.data) < 1);
    // CMYK goes through an ICC conversion and back; a decoder that misread the channels would be off by tens.
    assert.ok(meanAbsDiff((await decode('cmyk.jpg')).data, base.data) < 3, `CMYK ${meanAbsDiff((await decode('cmyk.jpg')).data, base.data)}`);
  });

  test('pixel limits are configurable: a small limit rejects a normal photo as too-large', async () => {
    const bytes = await readFile(SOURCE_PHOTO);
    const { width, height } = await decodeImage(bytes, SOURCE_PHOTO, WHITE);
    await assert.rejects(decodeImage(bytes, SOURCE_PHOTO, WHITE, { maxPixels: width * height - 1 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'too-large');
      assert.match(e.message, new RegExp(`${width * height - 1}-pixel limit`));
      return true;
    });
    const exact = await decodeImage(bytes, SOURCE_PHOTO, WHITE, { maxPixels: width * height });
    assert.equal(exact.width, width, 'the limit is inclusive');
    // The same option through classifyFiles, where the 1x1 image still passes.
    const results = await collect(classifier.classifyFiles([SOURCE_PHOTO, path.join(corpus.dir, '1x1.png')], { maxPixels: 100 }));
    assert.ok(isFailure(results[0]) && results[0].error.code === 'too-large' && /100-pixel limit/.test(results[0].error.message));
    assert.ok(!isFailure(results[1]));
  });
});

describe('classifying the corpus', () => {
  test('decodable oddities are classified, keeping the source photo\'s label with scores close to its own', async () => {
    const predicted = ofOutcome('predicted');
    const references = predicted.flatMap((e) => (e.expect.outcome === 'predicted' && e.expect.reference ? [e.expect.reference] : []));
    const files = [SOURCE_PHOTO, ...predicted.map((e) => e.file), ...references];
    const results = await collect(classifier.classifyFiles(files, { topK: classifier.labels.length, batchSize: 8 }));
    assert.deepEqual(results.map((r) => r.file), files);
    const byFile = new Map(results.map((r) => [r.file, r]));
    const labels = classifier.labels;
    const source = scores(results[0], labels);
    const ranked = [...source].sort((a, b) => b - a);
    // Comparing top labels means something only when the photo is not a near tie.
    assert.ok(ranked[0] - ranked[1] >= 0.3, `pick a SOURCE_PHOTO the model is sure about: ${source.map((s) => s.toFixed(3))}`);
    const sourceLabel = labels[source.indexOf(ranked[0])];
    for (const entry of predicted) {
      if (entry.expect.outcome !== 'predicted') continue;
      const result = byFile.get(entry.file)!;
      const got = scores(result, labels);
      assert.ok(got.every((p) => p >= 0 && p <= 1) && Math.abs(got.reduce((a, b) => a + b) - 1) < 1e-3, `${entry.file}: ${got}`);
      if (!entry.expect.derived) continue;
      assert.equal(!isFailure(result) && result.label, sourceLabel, `${entry.why}: label`);
      const diff = maxAbsDiff(got, source);
      assert.ok(diff <= entry.expect.tolerance!, `${entry.why}: scores ${got.map((s) => s.toFixed(4))} vs photo ${source.map((s) => s.toFixed(4))} (max diff ${diff.toFixed(4)} > ${entry.expect.tolerance})`);
      if (entry.expect.reference) {
        // Same pixels as the reference, so the same scores up to float noise between batches.
        const reference = scores(byFile.get(entry.expect.reference)!, labels);
        assert.ok(maxAbsDiff(got, reference) <= 1e-4, `${entry.why}: ${got} vs reference ${reference}`);
      }
    }
  });

  test('undecodable, over-limit and special files each give one error naming the file and the reason, in order', { timeout: 30_000 }, async () => {
    const explicit: Pick<CorpusEntry, 'file' | 'expect'>[] = [
      ...ofOutcome('error').filter((e) => !e.file.endsWith('locked.jpg')),
      { file: path.join(corpus.dir, 'drawing.svg'), expect: { outcome: 'error', code: 'unsupported', reason: /SVG/ } },
      // Named explicitly these are opened, not listed: they must fail, not block or read forever.
      { file: path.join(corpus.dir, 'pipe.jpg'), expect: { outcome: 'error', code: 'unreadable', reason: /not a regular file/ } },
      { file: path.join(corpus.dir, 'zeros.jpg'), expect: { outcome: 'error', code: 'unreadable', reason: /not a regular file/ } },
      { file: path.join(corpus.dir, 'self-loop.jpg'), expect: { outcome: 'error', code: 'unreadable', reason: /symbolic links/ } },
      { file: path.join(corpus.dir, 'nested'), expect: { outcome: 'error', code: 'unreadable', reason: /folder/ } },
      { file: path.join(corpus.dir, 'missing.jpg'), expect: { outcome: 'error', code: 'unreadable', reason: /not found/ } },
    ];
    // Mixed with good photos and a batch size of 3, so errors sit inside and across batches.
    const files = explicit.flatMap((e, i) => (i % 3 === 0 ? [corpus.original, e.file] : [e.file]));
    const results = await collect(classifier.classifyFiles(files, { batchSize: 3 }));
    assert.deepEqual(results.map((r) => r.file), files, 'one result per input, in input order');
    for (const entry of explicit) {
      const result = results.find((r) => r.file === entry.file)!;
      assert.ok(isFailure(result), `${entry.file} should fail`);
      if (entry.expect.outcome !== 'error') continue;
      assert.equal(result.error.code, entry.expect.code, `${entry.file}: ${result.error.message}`);
      assert.match(result.error.message, entry.expect.reason, entry.file);
      single(result.error.message);
    }
    assert.ok(results.filter((r) => r.file === corpus.original).every((r) => !isFailure(r)));
  });

  test('a chmod 000 file is an "unreadable" error', async (t) => {
    if (!corpus.permissionsEnforced) {
      t.skip('running as root: chmod 000 does not stop root from reading, so there is nothing to check');
      return;
    }
    const [result] = await collect(classifier.classifyFiles([corpus.byName('locked.jpg').file]));
    assert.ok(isFailure(result) && result.error.code === 'unreadable' && /permission denied/.test(result.error.message));
  });

  test('walking the corpus: the link loop is walked once, FIFOs, devices and non-UTF-8 names are reported, not opened', { timeout: 20_000 }, async () => {
    const errors: { file: string; reason: string }[] = [];
    const files = await walkImages(corpus.dir, (file, reason) => errors.push({ file, reason }));
    const listed = corpus.entries.filter((e) => e.expect.outcome === 'predicted' || e.expect.outcome === 'error').map((e) => e.file);
    assert.deepEqual([...files].sort(), [...listed].sort());
    assert.equal(new Set(files).size, files.length, 'nothing listed twice');
    assert.ok(files.every((f) => !f.includes(`${path.sep}loop${path.sep}`)), 'nothing reached through the loop link');
    const expected = ofOutcome('listing-error');
    assert.deepEqual(errors.map((e) => e.file).sort(), expected.map((e) => e.file).sort());
    for (const entry of expected) {
      if (entry.expect.outcome === 'listing-error') assert.match(errors.find((e) => e.file === entry.file)!.reason, entry.expect.reason);
    }
  });

  test('footwear predict over the corpus folder exits 1, counts the failures, and predicts every decodable file', { timeout: 90_000 }, async () => {
    const csv = path.join(work, 'corpus.csv');
    const r = await footwear('predict', '--model', modelDir, corpus.dir, '--csv', csv, '--ep', 'cpu');
    assert.equal(r.code, 1, r.stderr);
    const predicted = ofOutcome('predicted');
    const failed = [...ofOutcome('error'), ...ofOutcome('listing-error')];
    assert.match(r.stderr, new RegExp(`^${predicted.length} predicted, ${failed.length} failed`, 'm'));
    assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /);
    const rows = parseCsv(await readFile(csv, 'utf8'));
    assert.deepEqual(rows[0], ['file', 'label', 'score', 'error']);
    assert.equal(rows.length, 1 + predicted.length + failed.length);
    const row = (file: string) => {
      const matches = rows.filter((x) => x[0] === file);
      assert.equal(matches.length, 1, `${file}: ${matches.length} rows`);
      return matches[0];
    };
    for (const entry of predicted) assert.ok(classifier.labels.includes(row(entry.file)[1]), `${entry.file}: ${row(entry.file)}`);
    for (const entry of failed) {
      const [, label, score, error] = row(entry.file);
      assert.equal(label + score, '', entry.file);
      if (entry.expect.outcome === 'error') assert.ok(error.startsWith(`${entry.expect.code}: `) && entry.expect.reason.test(error), `${entry.file}: ${error}`);
      if (entry.expect.outcome === 'listing-error') assert.match(error, entry.expect.reason, entry.file);
    }
  });
});

describe('training with bad images', () => {
  /** Five real photos per class plus three corrupt images, a FIFO and a non-UTF-8 name among them. */
  async function dirtyDataset(): Promise<{ root: string; corrupt: string[]; unlisted: string[] }> {
    const root = path.join(work, 'dirty-dataset');
    for (const { label, file } of await firstFiles(path.join(SHOES, 'train'), 5)) {
      await mkdir(path.join(root, label), { recursive: true });
      await symlink(file, path.join(root, label, path.basename(file)));
    }
    const photo = await readFile(SOURCE_PHOTO);
    const corrupt = [path.join(root, 'Boot', 'half.jpg'), path.join(root, 'Sandal', 'notes.jpg'), path.join(root, 'Shoe', 'empty.jpg')];
    await writeFile(corrupt[0], photo.subarray(0, photo.length >> 1));
    await writeFile(corrupt[1], 'not a photo');
    await writeFile(corrupt[2], '');
    // Before walkImages skipped FIFOs, this one made feature extraction wait forever.
    assert.equal(spawnSync('mkfifo', [path.join(root, 'Boot', 'pipe.jpg')]).status, 0);
    await writeFile(Buffer.from(`${path.join(root, 'Shoe', 'caf')}\xe9.jpg`, 'latin1'), photo);
    return { root, corrupt, unlisted: [path.join(root, 'Boot', 'pipe.jpg'), path.join(root, 'Shoe', 'caf\\xE9.jpg')] };
  }

  test('a few corrupt images are skipped and listed; above maxBadFraction training stops naming the count', { timeout: 120_000 }, async () => {
    const { root, corrupt, unlisted } = await dirtyDataset();
    const options = { ...defaultTrainOptions(root, ''), epochs: 3, export: false, ep: 'cpu' as const };
    // 3 of 18 readable-looking files fail to decode: 17% is over a 10% limit ...
    await assert.rejects(train({ ...options, out: path.join(work, 'too-dirty'), maxBadFraction: 0.1 }), (e: Error) => {
      assert.ok(e instanceof TrainError, String(e));
      assert.match(e.message, /^3 of 18 images could not be read \(limit 10%\)/);
      single(e.message);
      return true;
    });
    // ... and within a 25% one.
    const out = path.join(work, 'dirty-model');
    const result = await train({ ...options, out, maxBadFraction: 0.25 });
    assert.deepEqual(result.labels, ['Boot', 'Sandal', 'Shoe']);
    assert.equal(result.history.length, 3);
    assert.deepEqual(result.skipped.map((s) => s.file).sort(), [...corrupt, ...unlisted].sort());
    assert.ok(result.skipped.every((s) => s.reason.length > 0));
    assert.match(result.skipped.find((s) => s.file.endsWith('pipe.jpg'))!.reason, /not a regular file/);
    assert.match(result.skipped.find((s) => s.file.includes('caf'))!.reason, /not valid UTF-8/);
    const record = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { result: { skipped: unknown[] } };
    assert.equal(record.result.skipped.length, 5, 'the training record keeps the list');
  });

  test('datasets that cannot make a classifier fail with a DatasetError saying why', async () => {
    const make = async (name: string, layout: Record<string, string | null>) => {
      const root = path.join(work, name);
      for (const [file, content] of Object.entries(layout)) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        if (content !== null) await writeFile(path.join(root, file), content);
      }
      return root;
    };
    const photo = await readFile(SOURCE_PHOTO, 'latin1');
    const rejects = (root: string, pattern: RegExp) =>
      assert.rejects(train({ ...defaultTrainOptions(root, path.join(work, 'unused')), export: false }), (e: Error) => {
        assert.ok(e instanceof DatasetError, String(e));
        assert.ok(e.message.startsWith(root), e.message);
        assert.match(e.message, pattern);
        single(e.message);
        return true;
      });
    // A class folder holding only non-images and hidden files counts as empty.
    await rejects(await make('only-notes', { 'Boot/a.jpg': photo, 'Sandal/README.txt': 'x', 'Sandal/.DS_Store': 'x' }), /no images: Sandal/);
    // Hidden folders are no classes, so this is a one-class dataset.
    await rejects(await make('hidden', { 'Boot/a.jpg': photo, '.cache/b.jpg': photo }), /found 1 class folder\(s\) \(Boot\)/);
    // Links to files or nowhere at the top are no classes either (they used to count, as empty ones).
    const linked = await make('linked', { 'Boot/a.jpg': photo, 'notes.txt': 'x' });
    await symlink(path.join(linked, 'notes.txt'), path.join(linked, 'notes-link'));
    await symlink(path.join(linked, 'nowhere'), path.join(linked, 'broken-link'));
    await rejects(linked, /found 1 class folder\(s\) \(Boot\)/);
    // A class folder name that is not UTF-8 cannot become a label.
    const latin1 = await make('latin1', { 'Boot/a.jpg': photo });
    await mkdir(Buffer.from(`${path.join(latin1, 'Espadrille')}\xe9`, 'latin1'));
    await rejects(latin1, /Espadrille\\xE9: class folder name is not valid UTF-8/);
    // A link loop inside a class is followed once: discovery ends and finds each photo once.
    const looped = await make('looped', { 'Boot/a.jpg': photo, 'Sandal/b.jpg': photo });
    await symlink('.', path.join(looped, 'Sandal', 'again'));
    const ds = await discoverDataset(looped);
    assert.deepEqual(ds.samples.map((s) => path.relative(looped, s.file)).sort(), ['Boot/a.jpg', 'Sandal/b.jpg']);
  });
});

describe('model files', () => {
  let bytes: Buffer;
  before(async () => {
    bytes = await readFile(path.join(modelDir, 'model.onnx'));
  });

  /** The real model with its spec metadata rewritten (or dropped) through onnx-proto. */
  function withSpec(edit: (spec: { labels: string[] }) => object | null): Uint8Array {
    const model = onnx.ModelProto.decode(bytes);
    const entry = model.metadataProps.find((p) => p.key === SPEC_METADATA_KEY)!;
    const spec = edit(JSON.parse(entry.value!) as { labels: string[] });
    model.metadataProps = spec === null ? model.metadataProps.filter((p) => p !== entry) : model.metadataProps.map((p) => (p === entry ? { key: p.key, value: JSON.stringify(spec) } : p));
    return onnx.ModelProto.encode(model).finish();
  }

  const broken = (): Record<string, { data: Uint8Array; reason: RegExp }> => {
    const random = seededRandom(11);
    return {
      'truncated-10.onnx': { data: bytes.subarray(0, Math.floor(bytes.length * 0.1)), reason: /truncated or not ONNX/ },
      'truncated-50.onnx': { data: bytes.subarray(0, bytes.length >> 1), reason: /truncated or not ONNX/ },
      'truncated-last-byte.onnx': { data: bytes.subarray(0, bytes.length - 1), reason: /truncated or not ONNX/ },
      'random.onnx': { data: Uint8Array.from({ length: 65536 }, () => Math.floor(random() * 256)), reason: /not (a valid )?(an )?ONNX model/ },
      'no-spec.onnx': { data: withSpec(() => null), reason: /no "footwear\.spec" metadata/ },
      'four-labels.onnx': { data: withSpec((s) => ({ ...s, labels: [...s.labels, 'Slipper'] })), reason: /outputs 3 scores per image .* spec lists 4 labels/ },
      'two-labels.onnx': { data: withSpec((s) => ({ ...s, labels: s.labels.slice(0, 2) })), reason: /outputs 3 scores per image .* spec lists 2 labels/ },
      'one-label.onnx': { data: withSpec((s) => ({ ...s, labels: s.labels.slice(0, 1) })), reason: /labels should be an array of at least 2/ },
    };
  };

  test('broken copies of the real model each give one ModelError naming the file', async () => {
    const dir = path.join(work, 'models');
    await mkdir(dir, { recursive: true });
    for (const [name, { data, reason }] of Object.entries(broken())) {
      const file = path.join(dir, name);
      await writeFile(file, data);
      await assert.rejects(loadModel(file, { ep: 'cpu' }), (error: unknown) => {
        assert.ok(error instanceof ModelError, `${name}: expected ModelError, got ${String(error)}`);
        assert.equal(error.source, file);
        assert.ok(error.message.startsWith(`${file}: `), error.message);
        assert.match(error.message, reason, name);
        single(error.message);
        return true;
      });
    }
  });

  test('a FIFO or a folder in place of model.onnx fails at once instead of blocking', { timeout: 20_000 }, async () => {
    const dir = path.join(work, 'fifo-model');
    await mkdir(dir, { recursive: true });
    assert.equal(spawnSync('mkfifo', [path.join(dir, 'model.onnx')]).status, 0);
    await assert.rejects(loadModel(dir, { ep: 'cpu' }), (e: Error) => e instanceof ModelError && /not a regular file/.test(e.message));
    const nested = path.join(work, 'folder-model');
    await mkdir(path.join(nested, 'model.onnx'), { recursive: true });
    await assert.rejects(loadModel(nested, { ep: 'cpu' }), (e: Error) => e instanceof ModelError && /is a folder/.test(e.message));
  });

  test('footwear predict with a broken model prints one "footwear:" line naming it, no stack trace', { timeout: 90_000 }, async () => {
    const dir = path.join(work, 'models');
    await mkdir(dir, { recursive: true });
    const cases = Object.entries(broken()).filter(([name]) => ['truncated-50.onnx', 'random.onnx', 'no-spec.onnx', 'four-labels.onnx'].includes(name));
    await Promise.all(cases.map(([name, { data }]) => writeFile(path.join(dir, name), data)));
    const runs = await Promise.all(cases.map(([name]) => footwear('predict', '--model', path.join(dir, name), SOURCE_PHOTO, '--ep', 'cpu')));
    runs.forEach((r, i) => {
      const [name, { reason }] = cases[i];
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
      assert.ok(lines[0].startsWith(`footwear: ${path.join(dir, name)}: `), lines[0]);
      assert.match(lines[0], reason);
      assert.equal(r.stdout, '');
    });
  });
});

describe('outputs already on disk', () => {
  test('writeFileAtomic cut off mid-write (file-size limit) leaves the previous file byte-identical', { timeout: 30_000 }, async () => {
    const target = path.join(work, 'report.csv');
    const previous = Buffer.from('file,label,score,error\r\nold.jpg,Boot,0.990000,\r\n');
    await writeFile(target, previous);
    // RLIMIT_FSIZE (ulimit -f, in KiB) is enforced for root too: writing past 16 KiB fails with
    // EFBIG after the first 16 KiB reached the disk, a real failure half way through the data.
    const script = `import { writeFileAtomic } from ${JSON.stringify(path.resolve(import.meta.dirname, '../src/node/atomic.ts'))};
      try { await writeFileAtomic(process.argv[1], Buffer.alloc(1 << 20, 65)); console.log('written'); }
      catch (e) { console.log(e.name, e.code, e.message); process.exitCode = 3; }`;
    const child = spawnSync('bash', ['-c', 'ulimit -f 16 && exec "$0" --import tsx --input-type=module -e "$1" "$2"', process.execPath, script, target], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: path.resolve(import.meta.dirname, '..'),
    });
    assert.equal(child.status, 3, `${child.stdout}${child.stderr}`);
    assert.match(child.stdout, new RegExp(`^OutputError EFBIG cannot write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: EFBIG`));
    assert.deepEqual(await readFile(target), previous);
    assert.deepEqual(await readdir(work).then((names) => names.filter((n) => n.includes('report.csv'))), ['report.csv'], 'no temporary file left behind');
    // Without the limit the same write replaces the file, so the limit is what stopped it above.
    await writeFileAtomic(target, Buffer.alloc(1 << 20, 65));
    assert.equal((await stat(target)).size, 1 << 20);
  });

  test('writeFileAtomic into a folder path that is a file names the target in one line', async () => {
    const blocker = path.join(work, 'not-a-folder');
    await writeFile(blocker, 'x');
    const target = path.join(blocker, 'sub', 'out.csv');
    await assert.rejects(writeFileAtomic(target, 'x'), (e: Error) => {
      assert.ok(e instanceof OutputError, String(e));
      assert.ok(e.message.startsWith(`cannot write ${target}: `), e.message);
      single(e.message);
      return true;
    });
    assert.equal(await readFile(blocker, 'utf8'), 'x');
  });

  test('footwear predict --csv that fails before predicting (model missing) leaves the old CSV intact', async () => {
    const csv = path.join(work, 'keep.csv');
    const previous = 'file,label,score,error\r\nyesterday.jpg,Sandal,0.950000,\r\n';
    await writeFile(csv, previous);
    const r = await footwear('predict', '--model', path.join(work, 'no-such-model'), SOURCE_PHOTO, '--csv', csv, '--ep', 'cpu');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), /^footwear: .*no-such-model: no such model file or folder$/);
    assert.equal(await readFile(csv, 'utf8'), previous);
  });
});

describe('fuzzing with corrupted real photos', () => {
  let mutants: { file: string; how: string }[];
  let inProcess: PredictionResult[];
  before(async () => {
    const dir = path.join(work, 'fuzz');
    await mkdir(dir);
    const sources = (await firstFiles(path.join(SHOES, 'test'), 4)).map((s) => s.file);
    mutants = await mutatedJpegs(sources, 300, dir);
  });

  test('300 mutated JPEGs through classifyFiles: no crash, one result or error per input, in order', { timeout: 120_000 }, async () => {
    const files = mutants.map((m) => m.file);
    inProcess = await collect(classifier.classifyFiles(files));
    assert.equal(inProcess.length, files.length);
    inProcess.forEach((r, i) => {
      const how = mutants[i].how;
      assert.equal(r.file, files[i], `result ${i} out of order`);
      if (isFailure(r)) {
        assert.ok(ERROR_CODES.has(r.error.code), `${how}: code ${r.error.code}`);
        assert.ok(r.error.message.length > 0, how);
        single(r.error.message);
      } else {
        assert.ok(classifier.labels.includes(r.label), how);
        assert.ok(r.topK.every((t) => Number.isFinite(t.score) && t.score >= 0 && t.score <= 1), `${how}: ${JSON.stringify(r.topK)}`);
      }
    });
    // The mutations must exercise both paths, or this test would prove little.
    const failed = inProcess.filter(isFailure).length;
    assert.ok(failed >= 30 && failed <= 270, `${failed} of 300 failed`);
  });

  test('failures decoded at the same time keep their own reasons and codes', async () => {
    // libvips has one error buffer per process: before decodeImage rechecked failures on their
    // own, about a quarter of the reasons here came back swapped with another file's or as
    // "Unknown error" when 8 decodes ran at once. One at a time is the ground truth.
    const inputs = await Promise.all(mutants.map((m) => readFile(m.file)));
    const outcome = (i: number) =>
      decodeImage(inputs[i], mutants[i].file, WHITE).then(
        () => 'decoded',
        (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
      );
    const alone: string[] = [];
    for (let i = 0; i < inputs.length; i++) alone.push(await outcome(i));
    const together: string[] = new Array(inputs.length);
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < inputs.length) {
        const i = next++;
        together[i] = await outcome(i);
      }
    }));
    assert.ok(alone.filter((o) => o !== 'decoded').length > 50, 'enough failures to overlap');
    together.forEach((o, i) => assert.equal(o, alone[i], mutants[i].how));
  });

  test('footwear predict over a folder of 50 of them agrees with classifyFiles, file by file', { timeout: 90_000 }, async () => {
    assert.ok(inProcess, 'runs after the classifyFiles test');
    const dir = path.join(work, 'fuzz-50');
    await mkdir(dir);
    const chosen = mutants.slice(0, 50);
    for (const m of chosen) await writeFile(path.join(dir, path.basename(m.file)), await readFile(m.file));
    const csv = path.join(work, 'fuzz.csv');
    const r = await footwear('predict', '--model', modelDir, dir, '--csv', csv, '--ep', 'cpu');
    const expected = inProcess.slice(0, 50);
    const failed = expected.filter(isFailure).length;
    assert.equal(r.code, failed > 0 ? 1 : 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^${50 - failed} predicted, ${failed} failed`, 'm'));
    const rows = parseCsv(await readFile(csv, 'utf8')).slice(1);
    assert.deepEqual(rows.map((row) => path.basename(row[0])), chosen.map((m) => path.basename(m.file)), 'one row per file, in name order');
    rows.forEach(([, label, score, error], i) => {
      const want = expected[i];
      if (isFailure(want)) assert.equal(error, `${want.error.code}: ${want.error.message}`, chosen[i].how);
      else {
        assert.equal(label, want.label, chosen[i].how);
        assert.ok(Math.abs(Number(score) - want.score) < 1e-4, `${chosen[i].how}: ${score} vs ${want.score}`);
      }
    });
  });
});
