import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import onnxProto from 'onnx-proto';
import { SPEC_METADATA_KEY, isFailure, type Prediction, type PredictionResult } from '../src/core/index.ts';
import { loadModel } from '../src/node/index.ts';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { V2Proxy } from './support/v2-proxy.ts';

// The remote runtime (--runtime v2://HOST:PORT/MODEL) against a real `footwear serve` (A) on
// loopback, reached through a proxy that stands where a Service would (so A can go away and come
// back on another port while the address stays). Scores must equal local inference; A going away
// must make a front server (B) unready and 503, and A coming back must make it ready again, with
// no restart; a model that differs must fail at load in one line. No timed assertions: waits are
// bounded polling loops.

const { onnx } = onnxProto;
const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');

let modelDir = '';
let name = '';
let files: string[] = [];
let local: Prediction[] = [];
let work = '';
let serverA: RunningServer;
let proxy: V2Proxy;

before(async () => {
  modelDir = await trainedModel();
  name = path.basename(modelDir);
  files = (await firstFiles(path.join(SHOES, 'test'), 2)).map((f) => f.file);
  const classifier = await loadModel(modelDir, { ep: 'cpu' });
  local = await predictions(classifier.classifyFiles(files, { topK: 3, preprocessWorkers: 0 }));
  await classifier.release();
  work = await mkdtemp(path.join(os.tmpdir(), 'footwear-remote-'));
  serverA = await startServer({ model: modelDir, port: 0 });
  proxy = await V2Proxy.start(serverA.url);
});

after(async () => {
  await proxy?.close();
  await serverA?.close();
  await rm(work, { recursive: true, force: true });
});

async function predictions(results: AsyncIterable<PredictionResult>): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for await (const r of results) {
    assert.ok(!isFailure(r), `${r.file}: ${isFailure(r) ? r.error.message : ''}`);
    out.push(r as Prediction);
  }
  return out;
}

function assertSame(actual: { label: string; topK: { label: string; score: number }[] }, wanted: Prediction, what: string): void {
  assert.equal(actual.label, wanted.label, what);
  assert.deepEqual(
    actual.topK.map((t) => t.label),
    wanted.topK.map((t) => t.label),
    what,
  );
  actual.topK.forEach((t, i) => assert.ok(Math.abs(t.score - wanted.topK[i].score) <= 1e-6, `${what}: ${t.label} ${t.score} vs ${wanted.topK[i].score}`));
}

/** The trained model with its footwear.spec edited, written as a file of its own. */
async function variant(fileName: string, edit: (spec: Record<string, unknown>) => Record<string, unknown>): Promise<string> {
  const model = onnx.ModelProto.decode(await readFile(path.join(modelDir, 'model.onnx')));
  model.metadataProps = model.metadataProps.map((p) => (p.key === SPEC_METADATA_KEY ? { key: p.key, value: JSON.stringify(edit(JSON.parse(p.value ?? '{}'))) } : p));
  const file = path.join(work, fileName);
  await writeFile(file, onnx.ModelProto.encode(model).finish());
  return file;
}

async function classifyOn(server: RunningServer, file: string): Promise<Response> {
  return fetch(`${server.url}/v1/classify?top_k=3`, { method: 'POST', body: new Uint8Array(await readFile(file)), headers: { 'content-type': 'image/jpeg' } });
}

/** Polls `check` (bounded; nothing is timed) until it holds; returns whether it did. */
async function eventually(check: () => Promise<boolean>, tries = 600): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function errorMessage(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

describe('remote runtime: loadModel and predict', () => {
  test('loadModel with runtime v2:// gives local labels and scores, computed by the remote server', async () => {
    const before = proxy.seen.filter((p) => p.endsWith('/infer')).length;
    const remote = await loadModel(modelDir, { runtime: proxy.runtimeUrl(name) });
    try {
      assert.equal(remote.executionProvider, proxy.runtimeUrl(name));
      const results = await predictions(remote.classifyFiles(files, { topK: 3, batchSize: 4, preprocessWorkers: 0 }));
      results.forEach((r, i) => assertSame(r, local[i], r.file));
    } finally {
      await remote.release();
    }
    // The check run, then ceil(6 / 4) batches: the scores came from A, not from a session here.
    assert.equal(proxy.seen.filter((p) => p.endsWith('/infer')).length - before, 3);
  });

  // The CLI runs the built dist/: `npm run build` first (npm test does).
  test('footwear predict --runtime v2:// prints the same predictions as local predict', async () => {
    const run = async (...extra: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'predict', '--model', modelDir, ...files, '--json', '--top-k', '3', ...extra], { maxBuffer: 64 << 20 });
      return JSON.parse(stdout) as { executionProvider: string; results: Prediction[] };
    };
    const remote = await run('--runtime', proxy.runtimeUrl(name));
    assert.equal(remote.executionProvider, proxy.runtimeUrl(name));
    remote.results.forEach((r, i) => assertSame(r, local[i], r.file));
    const refused = await promisify(execFile)(process.execPath, [BIN, 'predict', '--model', modelDir, files[0], '--runtime', 'http://x/y']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((refused as { code: number }).code, 1);
    assert.match((refused as { stderr: string }).stderr, /^footwear: runtime "http:\/\/x\/y": not a v2:\/\/ URL; expected "local" or v2:\/\/HOST\[:PORT\]\/MODEL.*\n$/);
  });

  test('a local model that differs from the remote one fails at load, in one line naming the URL and the difference', async () => {
    const url = proxy.runtimeUrl(name);
    const reversed = await variant('reversed.onnx', (spec) => ({ ...spec, labels: [...(spec.labels as string[])].reverse() }));
    const error = await errorMessage(loadModel(reversed, { runtime: url }));
    assert.equal(error.name, 'ModelError');
    assert.equal(error.message.split('\n').length, 1);
    assert.match(error.message, new RegExp(`^${url}: does not match the local model: labels \\[Boot, Sandal, Shoe\\] there, \\[Shoe, Sandal, Boot\\] here`));

    const renamed = await variant('renamed.onnx', (spec) => ({ ...spec, inputName: 'pixels', preprocess: { ...(spec.preprocess as object), range: [-1, 1] } }));
    const twice = await errorMessage(loadModel(renamed, { runtime: url }));
    assert.match(twice.message, /input "input" FP32 \[-1, 224, 224, 3\] there, "pixels" FP32 \[-1, 224, 224, 3\] here; preprocess\.range \[0,1\] there, \[-1,1\] here$/);

    const missing = await errorMessage(loadModel(modelDir, { runtime: proxy.runtimeUrl('nope') }));
    assert.match(missing.message, /^v2:\/\/127\.0\.0\.1:\d+\/nope: the server has no model "nope" \(no model named "nope"; this server serves/);

    // Through serve, the workers' error reaches the caller as the same one line.
    const refused = await errorMessage(startServer({ model: reversed, port: 0, runtime: url }));
    assert.equal(refused.name, 'ModelError');
    assert.match(refused.message, /does not match the local model: labels/);
  });

  test('a server that cannot be reached fails at load, after bounded retries, in one line', async () => {
    const nowhere = await V2Proxy.start('http://127.0.0.1:1');
    try {
      const error = await errorMessage(loadModel(modelDir, { runtime: nowhere.runtimeUrl(name) }));
      assert.equal(error.name, 'RemoteUnavailableError');
      assert.match(error.message, new RegExp(`^${nowhere.runtimeUrl(name)}: connection failed: \\w+, tried 4 times$`));
      assert.equal(nowhere.seen.length, 4, 'the first try and 3 retries');
    } finally {
      await nowhere.close();
    }
  });

  test('a Triton-like server (no labels in its metadata): labels checked with one classification request, or said to be unverified', async () => {
    const triton = await V2Proxy.start(serverA.url);
    try {
      // Triton's model metadata has no "parameters"; its classification answers carry labels.txt's labels.
      const withoutParameters = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'parameters'));
      triton.rewrite = (_route, body) => withoutParameters(body);
      const lines: string[] = [];
      const remote = await loadModel(modelDir, { runtime: triton.runtimeUrl(name), log: (l) => lines.push(l) });
      const results = await predictions(remote.classifyFiles(files.slice(0, 2), { topK: 3, preprocessWorkers: 0 }));
      results.forEach((r, i) => assertSame(r, local[i], r.file));
      await remote.release();
      assert.equal(lines.length, 0, lines.join("\n"));

      const reversed = await variant('reversed-triton.onnx', (spec) => ({ ...spec, labels: [...(spec.labels as string[])].reverse() }));
      const error = await errorMessage(loadModel(reversed, { runtime: triton.runtimeUrl(name) }));
      assert.match(error.message, /does not match the local model: labels \[Boot, Sandal, Shoe\] there, \[Shoe, Sandal, Boot\] here/);

      // A model without label_filename: "value:index" strings only. It loads, and says so.
      triton.rewrite = (route, body) => {
        if (!route.endsWith('/infer')) return withoutParameters(body);
        const outputs = (body.outputs as { data: string[] }[]).map((o) => ({ ...o, data: o.data.map((s) => s.split(':').slice(0, 2).join(':')) }));
        return { ...body, outputs };
      };
      const unverified = await loadModel(modelDir, { runtime: triton.runtimeUrl(name), log: (l) => lines.push(l) });
      await unverified.release();
      assert.equal(lines.length, 1);
      assert.match(lines[0], /: its labels could not be verified \(it lists no labels in its metadata and its classification answer carries none\); make sure its output order is \[Boot, Sandal, Shoe\]$/);
    } finally {
      await triton.close();
    }
  });
});

describe('remote runtime: serve --runtime v2://', () => {
  test('serve B in front of A answers as local inference; unready and 503 while A is away; ready again when A is back', async () => {
    const url = proxy.runtimeUrl(name);
    const lines: string[] = [];
    const front = await startServer({ model: modelDir, port: 0, runtime: url, log: (l) => lines.push(l) });
    try {
      const info = (await (await fetch(`${front.url}/v1/model`)).json()) as { executionProvider: string };
      assert.equal(info.executionProvider, url);
      for (const [i, file] of files.entries()) {
        const response = await classifyOn(front, file);
        assert.equal(response.status, 200);
        assertSame((await response.json()) as Prediction, local[i], file);
      }

      await serverA.close();
      // The first request after A left finds it gone, by its failed batch or by the watch: 503 either way.
      const during = await classifyOn(front, files[0]);
      assert.equal(during.status, 503);
      assert.equal(((await during.json()) as { error: { code: string } }).error.code, 'remote-unavailable');
      assert.ok(await eventually(async () => (await fetch(`${front.url}/v2/health/ready`)).status !== 200), '/v2/health/ready stops saying 200');
      const ready = await fetch(`${front.url}/v2/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { error: 'the model server is not answering; retry shortly' });
      assert.equal((await fetch(`${front.url}/readyz`)).status, 503);
      const refused = await classifyOn(front, files[1]);
      assert.equal(refused.status, 503);
      assert.ok(refused.headers.get('retry-after'));
      assert.ok(lines.some((l) => l.startsWith(`${url} is not answering`)), lines.join('\n'));

      // A comes back (a new process, on another port, behind the same address): B follows, unrestarted.
      serverA = await startServer({ model: modelDir, port: 0 });
      proxy.upstream = serverA.url;
      assert.ok(await eventually(async () => (await fetch(`${front.url}/v2/health/ready`)).status === 200), '/v2/health/ready says 200 again');
      assert.equal((await fetch(`${front.url}/readyz`)).status, 200);
      const back = await classifyOn(front, files[2]);
      assert.equal(back.status, 200);
      assertSame((await back.json()) as Prediction, local[2], files[2]);
      assert.ok(lines.some((l) => l === `${url} is back; ready again`), lines.join('\n'));
    } finally {
      await front.close();
    }
  });
});
