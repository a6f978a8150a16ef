import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, classifyInPage, launchChromium, openDemo, type PageResult } from '../fixtures/web-harness.ts';
import onnxProto from 'onnx-proto';
import { OnnxFormatError, readOnnxMetadata, type Prediction } from '../src/core/index.ts';
import { nodePredictions } from './support/node-predictions.ts';
import { buildWebSite, SITE_MANIFEST, WebBuildError, type BuiltSite } from '../src/web/build.ts';
import { serveStatic } from '../fixtures/static-server.ts';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// The browser must give the same answers as Node for the same photos: same spec from the ONNX
// metadata, same decode-then-resize path, same model. Scores may differ only by float rounding
// between onnxruntime-node and onnxruntime-web.
const SCORE_TOLERANCE = 1e-3;

function assertSamePredictions(page: PageResult[], node: Prediction[]): void {
  assert.equal(page.length, node.length);
  page.forEach((shown, i) => {
    const expected = node[i];
    const where = `${path.basename(expected.file)}`;
    assert.equal(shown.file, path.basename(expected.file), 'results keep the chosen order');
    assert.equal(shown.state, 'done', `${where}: ${shown.error ?? ''}`);
    assert.equal(shown.label, expected.label, `${where}: label`);
    assert.ok(Math.abs(shown.score - expected.score) < SCORE_TOLERANCE, `${where}: score ${shown.score} vs Node ${expected.score}`);
    assert.deepEqual(new Set(shown.topK.map((t) => t.label)), new Set(expected.topK.map((t) => t.label)), `${where}: top-3 labels`);
    for (const { label, score } of expected.topK) {
      const other = shown.topK.find((t) => t.label === label)?.score ?? NaN;
      assert.ok(Math.abs(other - score) < SCORE_TOLERANCE, `${where}: ${label} ${other} vs Node ${score}`);
    }
    assert.ok(shown.backend.length > 0, `${where}: backend is shown`);
    assert.ok(shown.ms > 0 && shown.inferenceMs > 0 && shown.inferenceMs <= shown.ms, `${where}: timings ${shown.ms}/${shown.inferenceMs}`);
  });
}

// Chromium comes from the OS (apt-get install chromium), never from a Playwright download.
const noBrowser = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`;

describe('web page', { skip: noBrowser }, () => {
  let model: string;
  let work: string;
  let site: BuiltSite;
  /** footwear serve --web: COOP/COEP, and the precompressed copies the browser accepts. */
  let isolated: RunningServer;
  let browser: Browser;
  let photos: string[];
  let expected: Prediction[];

  before(async () => {
    model = await trainedModel();
    work = await mkdtemp(path.join(os.tmpdir(), 'footwear-web-test-'));
    site = await buildWebSite({ model, out: path.join(work, 'site') });
    isolated = await startServer({ model, port: 0, web: site.out });
    browser = await launchChromium();
    // A mix of classes: 4 boots, 3 sandals, 3 shoes from the held-out test split.
    const byClass = await firstFiles(path.join(SHOES, 'test'), 4);
    const take = (label: string, n: number) => byClass.filter((f) => f.label === label).slice(0, n).map((f) => f.file);
    photos = [...take('Boot', 4), ...take('Sandal', 3), ...take('Shoe', 3)];
    expected = await nodePredictions(model, photos);
  });

  after(async () => {
    await browser?.close();
    await isolated?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the one metadata reader (Node and browser) agrees with a full protobuf decode', async () => {
    const bytes = await readFile(path.join(model, 'model.onnx'));
    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    assert.deepEqual(readOnnxMetadata(bytes), Object.fromEntries(decoded.metadataProps.map((e) => [e.key, e.value])));
    assert.throws(() => readOnnxMetadata(bytes.subarray(0, bytes.length - 1000)), OnnxFormatError);
    assert.throws(() => readOnnxMetadata(new Uint8Array(0)), /empty/);
    assert.throws(() => readOnnxMetadata(new TextEncoder().encode('<!doctype html><html></html>')), OnnxFormatError);
  });

  test('the site holds the page, the model and ONNX Runtime, and never replaces a foreign folder', async () => {
    for (const file of ['index.html', 'model.onnx', SITE_MANIFEST, 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort-wasm-simd-threaded.mjs']) {
      assert.ok(site.files.includes(file), `site has ${file}: ${site.files.join(', ')}`);
    }
    assert.deepEqual(await readFile(path.join(site.out, 'model.onnx')), await readFile(path.join(model, 'model.onnx')));
    const foreign = path.join(work, 'foreign');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'notes.txt'), 'keep me');
    await assert.rejects(buildWebSite({ model, out: foreign }), WebBuildError);
    assert.equal(await readFile(path.join(foreign, 'notes.txt'), 'utf8'), 'keep me');
  });

  test('10 real photos get the labels and scores Node gives, cross-origin isolated', async () => {
    const page = await browser.newPage();
    const encodings = new Map<string, string>();
    page.on('response', (response) => {
      const name = new URL(response.url()).pathname.slice(1);
      if (/\.(wasm|onnx)$/.test(name)) encodings.set(name, response.headers()['content-encoding'] ?? 'none');
    });
    const info = await openDemo(page, `${isolated.url}/`);
    assert.ok(info.crossOriginIsolated, 'COOP/COEP make the page cross-origin isolated');
    // The big downloads came compressed: the model and the ORT wasm the page chose.
    const shown = JSON.stringify([...encodings]);
    assert.ok(encodings.has('model.onnx') && [...encodings.keys()].some((name) => name.startsWith('ort/')), shown);
    for (const [name, encoding] of encodings) assert.match(encoding, /^(br|gzip)$/, `${name} in ${shown}`);
    assert.match(info.backend, /^(WebGPU|wasm SIMD|wasm threads)$/);
    assert.equal(await page.getByTestId('status').textContent(), 'ready');
    const results = await classifyInPage(page, photos);
    assertSamePredictions(results, expected);
    await page.close();
  });

  test('opened from disk (file://), the page says to serve it over HTTP instead of loading forever', async () => {
    const page = await browser.newPage();
    await page.goto(`file://${path.join(site.out, 'index.html')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-state') !== 'loading', null, { timeout: 30_000 });
    assert.equal(await page.getByTestId('status').textContent(), 'error');
    assert.equal(
      await page.locator('.error').textContent(),
      `This page has to be served over HTTP; browsers do not run its scripts from a file. Run: npx footwear serve --model ${site.out}/model.onnx --web ${site.out} and open http://127.0.0.1:8080/ (any static server works; with COOP/COEP headers it runs multi-threaded).`,
    );
    await page.close();
  });

  test('without isolation the page runs single-threaded wasm with the same answers, and a bad file fails alone', async () => {
    const plain = await serveStatic(site.out, { isolate: false });
    const bogus = path.join(work, 'not a photo.jpg');
    await writeFile(bogus, 'plain text, not a JPEG');
    try {
      const page = await browser.newPage();
      const info = await openDemo(page, `${plain.url}?backend=wasm`);
      assert.equal(info.crossOriginIsolated, false);
      assert.equal(info.backend, 'wasm SIMD');
      const [broken, ...rest] = await classifyInPage(page, [bogus, ...photos.slice(0, 3)]);
      assert.equal(broken.state, 'error');
      assert.match(broken.error ?? '', /cannot decode/);
      // Its tile shows the error where the photo would be, not a broken-image icon.
      const tile = page.locator('[data-testid="result"][data-state="error"]');
      assert.equal(await tile.locator('img').count(), 0);
      assert.equal(await tile.getByTestId('thumbnail-error').textContent(), broken.error);
      assertSamePredictions(rest, expected.slice(0, 3));
      await page.close();
    } finally {
      await plain.close();
    }
  });
});
