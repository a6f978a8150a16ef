import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import type { Browser } from 'playwright-core';
import { CHROMIUM, classifyInPage, launchChromium, openDemo } from '../fixtures/web-harness.ts';
import type { Prediction } from '../src/core/index.ts';
import { nodePredictions } from './support/node-predictions.ts';
import { buildWebSite } from '../src/web/build.ts';
import { serveStatic, type StaticServer } from '../fixtures/static-server.ts';
import { firstFiles, SHARED_MISSING, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// The page's WebGPU path, run for real: headless Chromium offers SwiftShader (a CPU emulation of
// a GPU) as its WebGPU adapter, onnxruntime-web runs the model through its WebGPU execution
// provider, and every photo must get Node's label. WebGPU kernels accumulate in a different
// order than onnxruntime-node's CPU kernels, so probabilities match to float32 rounding of a
// 50-layer network, not bit for bit; measured here, the largest gap was about 1e-6.
const PROB_TOLERANCE = 1e-3;

// Counts the WebGPU work the page submits, so a session that silently ran on wasm (no GPU
// dispatches), or that left its convolutions to the CPU, cannot pass for WebGPU. Plain JS: the
// page runs it before any of its own scripts.
const COUNT_GPU_WORK = `
  globalThis.__gpuWork = { submits: 0, pipelines: 0, dispatches: 0 };
  if (globalThis.GPUQueue) {
    const submit = GPUQueue.prototype.submit;
    GPUQueue.prototype.submit = function (...args) { globalThis.__gpuWork.submits++; return submit.apply(this, args); };
    const dispatch = GPUComputePassEncoder.prototype.dispatchWorkgroups;
    GPUComputePassEncoder.prototype.dispatchWorkgroups = function (...args) { globalThis.__gpuWork.dispatches++; return dispatch.apply(this, args); };
    for (const name of ['createComputePipeline', 'createComputePipelineAsync']) {
      const create = GPUDevice.prototype[name];
      GPUDevice.prototype[name] = function (...args) { globalThis.__gpuWork.pipelines++; return create.apply(this, args); };
    }
  }
`;

const noBrowser = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`;

describe('web page on WebGPU (SwiftShader)', { skip: noBrowser || SHARED_MISSING }, () => {
  let model: string;
  let work: string;
  let server: StaticServer;
  let browser: Browser;
  let photos: string[];
  let expected: Prediction[];

  before(async () => {
    model = await trainedModel();
    work = await mkdtemp(path.join(os.tmpdir(), 'footwear-webgpu-test-'));
    const site = await buildWebSite({ model, out: path.join(work, 'site') });
    server = await serveStatic(site.out);
    browser = await launchChromium({ webgpu: true });
    // 12 held-out photos, 4 per class, taken from across each class folder rather than its start.
    const byClass = await firstFiles(path.join(SHOES, 'test'), 40);
    photos = ['Boot', 'Sandal', 'Shoe'].flatMap((label) =>
      byClass
        .filter((f) => f.label === label)
        .filter((_, i) => i % 10 === 3)
        .map((f) => f.file),
    );
    expected = await nodePredictions(model, photos);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the harness browser offers a WebGPU adapter, and it is SwiftShader', async (t) => {
    const page = await browser.newPage();
    // navigator.gpu exists only in secure contexts; the local server counts as one.
    await page.goto(server.url);
    const adapter = await page.evaluate(async () => {
      const found = await navigator.gpu?.requestAdapter();
      return found && { vendor: found.info.vendor, architecture: found.info.architecture, fallback: found.info.isFallbackAdapter };
    });
    t.diagnostic(`adapter: ${JSON.stringify(adapter)}`);
    assert.ok(adapter, 'navigator.gpu.requestAdapter() gave an adapter');
    assert.equal(adapter.architecture, 'swiftshader');
    await page.close();
  });

  test('12 real photos on the WebGPU backend get the labels and probabilities Node gives', async (t) => {
    assert.equal(photos.length, 12);
    const page = await browser.newPage();
    await page.addInitScript(COUNT_GPU_WORK);
    const info = await openDemo(page, `${server.url}?backend=webgpu`, 180_000);
    assert.equal(info.backend, 'WebGPU', 'the page reports the WebGPU execution provider');
    const gpuWork = () => page.evaluate(() => (globalThis as unknown as { __gpuWork: { submits: number; pipelines: number; dispatches: number } }).__gpuWork);
    const loaded = await gpuWork();
    const results = await classifyInPage(page, photos, 180_000);
    const ran = await gpuWork();
    t.diagnostic(`GPU work: ${JSON.stringify({ loaded, ran })}`);
    // Inference itself ran on the GPU device: queue submits for every photo, and per photo at
    // least as many compute dispatches as the graph has convolutions. Convolutions left to ORT's
    // CPU kernels dispatch nothing, so a mostly-CPU session falls short (measured: 60 for 43).
    const graph = onnxProto.onnx.ModelProto.decode(await readFile(path.join(model, 'model.onnx'))).graph;
    const convs = (graph?.node ?? []).filter((n) => n.opType === 'Conv').length;
    const perPhoto = (ran.dispatches - loaded.dispatches) / photos.length;
    t.diagnostic(`per photo: ${perPhoto} compute dispatches for ${convs} Conv nodes`);
    assert.ok(convs > 0);
    assert.ok(ran.submits - loaded.submits >= photos.length, `GPU submits during inference: ${ran.submits - loaded.submits}`);
    assert.ok(perPhoto >= convs, `${perPhoto} GPU dispatches per photo for ${convs} convolutions`);

    let largest = 0;
    assert.equal(results.length, expected.length);
    results.forEach((shown, i) => {
      const node = expected[i];
      const where = path.basename(node.file);
      assert.equal(shown.file, where, 'results keep the chosen order');
      assert.equal(shown.state, 'done', `${where}: ${shown.error ?? ''}`);
      assert.equal(shown.backend, 'WebGPU', `${where}: backend`);
      assert.equal(shown.label, node.label, `${where}: label`);
      // Three classes, so top-3 is the whole distribution: every probability is compared.
      assert.equal(shown.topK.length, node.topK.length);
      for (const { label, score } of node.topK) {
        const other = shown.topK.find((s) => s.label === label)?.score ?? NaN;
        largest = Math.max(largest, Math.abs(other - score));
        assert.ok(Math.abs(other - score) < PROB_TOLERANCE, `${where}: ${label} ${other} vs Node ${score}`);
      }
    });
    t.diagnostic(`largest probability gap to Node: ${largest.toExponential(2)}; labels: ${results.map((r) => r.label).join(' ')}`);
    await page.close();
  });
});
