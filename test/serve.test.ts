import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { SPEC_METADATA_KEY } from '../src/core/index.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

const { onnx } = onnxProto;

// A real server on an ephemeral loopback port, the real trained model, real catalogue photos.
// Nothing here asserts on timing: only statuses, headers and bodies.

const MAX_BODY = 64 * 1024;
const MAX_PIXELS = 100_000;

interface ErrorBody {
  error: { code: string; message: string };
}
interface LabelScore {
  label: string;
  score: number;
}
interface ClassifyBody {
  label: string;
  score: number;
  topK: LabelScore[];
  model: string;
  ms: number;
}

// Copied out of Buffers: fetch and Blob take only ArrayBuffer-backed bytes.
let photos: { label: string; file: string; bytes: Uint8Array<ArrayBuffer> }[] = [];
let modelDir = '';

before(async () => {
  modelDir = await trainedModel();
  const files = await firstFiles(path.join(SHOES, 'test'), 2);
  photos = await Promise.all(files.map(async (f) => ({ ...f, bytes: new Uint8Array(await readFile(f.file)) })));
});

function postImage(url: string, body: Uint8Array<ArrayBuffer> | string, type = 'image/jpeg', signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: { 'content-type': type }, signal });
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  const body = (await response.json()) as ErrorBody;
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

function assertRanked(body: ClassifyBody, labels: readonly string[], k: number): void {
  assert.ok(labels.includes(body.label), `label ${body.label} is one of ${labels.join(', ')}`);
  assert.equal(body.topK.length, k);
  assert.deepEqual(body.topK[0], { label: body.label, score: body.score });
  for (let i = 1; i < body.topK.length; i++) assert.ok(body.topK[i - 1].score >= body.topK[i].score, 'topK is sorted best first');
  assert.ok(body.score > 0 && body.score <= 1);
}

describe('footwear serve', () => {
  let server: RunningServer;
  let web = '';
  let labels: string[] = [];

  before(async () => {
    web = await mkdtemp(path.join(os.tmpdir(), 'footwear-serve-web-'));
    await mkdir(path.join(web, 'assets'));
    await writeFile(path.join(web, 'index.html'), '<!doctype html><title>demo</title>');
    await writeFile(path.join(web, 'assets', 'app.mjs'), 'export const x = 1;\n');
    await writeFile(path.join(web, 'assets', 'ort.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    server = await startServer({ model: modelDir, port: 0, maxBodyBytes: MAX_BODY, maxPixels: MAX_PIXELS, web });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    labels = ((await (await fetch(`${server.url}/v1/model`)).json()) as { labels: string[] }).labels;
  });

  after(async () => {
    await server?.close();
    await rm(web, { recursive: true, force: true });
  });

  test('probes: /healthz and /readyz answer 200 once started', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  test('GET /v1/model describes the model the workers loaded', async () => {
    const response = await fetch(`${server.url}/v1/model`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { labels: string[]; input: { height: number; width: number; layout: string }; executionProvider: string; model: string };
    const record = JSON.parse(await readFile(path.join(modelDir, 'training.json'), 'utf8')) as { spec: { labels: string[] } };
    assert.deepEqual(body.labels, record.spec.labels);
    assert.deepEqual(body.labels, ['Boot', 'Sandal', 'Shoe']);
    assert.equal(body.input.layout, 'NHWC');
    assert.ok(body.input.height > 0 && body.input.width > 0);
    assert.equal(body.executionProvider, 'cpu');
    assert.equal(body.model, path.basename(modelDir));
  });

  test('POST /v1/classify labels real photos, with top_k', async () => {
    for (const photo of photos) {
      const sent = performance.now();
      const response = await postImage(`${server.url}/v1/classify?top_k=2`, photo.bytes);
      const roundTrip = performance.now() - sent;
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await response.json()) as ClassifyBody;
      assertRanked(body, labels, 2);
      assert.equal(body.model, path.basename(modelDir));
      // The server's own time is part of what the client waited for, never more.
      assert.ok(body.ms > 0 && body.ms <= roundTrip, `server ms ${body.ms} within the ${roundTrip.toFixed(1)} ms round trip`);
    }
    const all = (await (await postImage(`${server.url}/v1/classify?top_k=99`, photos[0].bytes)).json()) as ClassifyBody;
    assertRanked(all, labels, labels.length);
    const fallback = (await (await postImage(`${server.url}/v1/classify`, photos[0].bytes)).json()) as ClassifyBody;
    assertRanked(fallback, labels, 3);
  });

  test('the trained model gets most of these photos right', async () => {
    const right = await Promise.all(
      photos.map(async (p) => ((await (await postImage(`${server.url}/v1/classify`, p.bytes)).json()) as ClassifyBody).label === p.label),
    );
    assert.ok(right.filter(Boolean).length >= photos.length / 2, `${right.filter(Boolean).length}/${photos.length} right`);
  });

  test('bad uploads get JSON errors with the right status, and the server carries on', async () => {
    const empty = await postImage(`${server.url}/v1/classify`, new Uint8Array(0));
    assert.equal(empty.status, 400);
    assert.equal((await errorOf(empty)).code, 'empty');

    const text = await postImage(`${server.url}/v1/classify`, 'this is not a photo');
    assert.equal(text.status, 400);
    assert.equal((await errorOf(text)).code, 'unsupported');

    const truncated = await postImage(`${server.url}/v1/classify`, photos[0].bytes.subarray(0, 400));
    assert.equal(truncated.status, 400);

    const plain = await postImage(`${server.url}/v1/classify`, 'hello', 'text/plain');
    assert.equal(plain.status, 415);
    const unsupported = await errorOf(plain);
    assert.equal(unsupported.code, 'unsupported-media-type');
    assert.match(unsupported.message, /image\/jpeg/);

    const untyped = await fetch(`${server.url}/v1/classify`, { method: 'POST' });
    assert.equal(untyped.status, 415);

    const big = await postImage(`${server.url}/v1/classify`, new Uint8Array(MAX_BODY + 1));
    assert.equal(big.status, 413);
    assert.deepEqual(await errorOf(big), {
      code: 'body-too-large',
      message: `the upload is larger than the server's limit of ${MAX_BODY} bytes; the server's --max-body-bytes option raises it`,
    });

    const huge = new Uint8Array(await sharp({ create: { width: 400, height: 400, channels: 3, background: '#808080' } }).png().toBuffer());
    const tooMany = await postImage(`${server.url}/v1/classify`, huge, 'image/png');
    assert.equal(tooMany.status, 422);
    assert.equal((await errorOf(tooMany)).code, 'too-large');

    for (const k of ['0', '-1', '1.5', 'abc']) {
      const response = await postImage(`${server.url}/v1/classify?top_k=${k}`, photos[0].bytes);
      assert.equal(response.status, 400, `top_k=${k}`);
      assert.equal((await errorOf(response)).code, 'bad-request');
    }

    const after = await postImage(`${server.url}/v1/classify`, photos[0].bytes);
    assert.equal(after.status, 200);
  });

  test('POST /v1/classify/batch answers one result or error per file, in order', async () => {
    const form = new FormData();
    const png = new Uint8Array(await sharp(photos[1].bytes).png().toBuffer());
    const huge = new Uint8Array(await sharp({ create: { width: 400, height: 400, channels: 3, background: '#fff' } }).png().toBuffer());
    form.append('files', new Blob([photos[0].bytes], { type: 'image/jpeg' }), path.basename(photos[0].file));
    form.append('files', new Blob(['not a photo'], { type: 'image/jpeg' }), 'notes.jpg');
    form.append('note', 'fields are ignored');
    form.append('files', new Blob([png], { type: 'image/png' }), 'second (2).png');
    form.append('files', new Blob([new Uint8Array(0)], { type: 'image/jpeg' }), 'empty.jpg');
    form.append('files', new Blob([new Uint8Array(MAX_BODY + 10)], { type: 'image/jpeg' }), 'big.jpg');
    form.append('files', new Blob([huge], { type: 'image/png' }), 'huge.png');
    const response = await fetch(`${server.url}/v1/classify/batch?top_k=2`, { method: 'POST', body: form });
    assert.equal(response.status, 200);
    const { results } = (await response.json()) as { results: (Partial<ClassifyBody> & { file: string; error?: { code: string; message: string } })[] };
    assert.deepEqual(
      results.map((r) => r.file),
      [path.basename(photos[0].file), 'notes.jpg', 'second (2).png', 'empty.jpg', 'big.jpg', 'huge.png'],
    );
    assertRanked(results[0] as ClassifyBody, labels, 2);
    assertRanked(results[2] as ClassifyBody, labels, 2);
    assert.deepEqual(
      results.map((r) => r.error?.code),
      [undefined, 'unsupported', undefined, 'empty', 'body-too-large', 'too-large'],
    );
    assert.match(results[4].error?.message ?? '', new RegExp(`limit of ${MAX_BODY} bytes; the server's --max-body-bytes option raises it$`));
  });

  test('application/octet-stream is taken as an image; its format is read from the bytes', async () => {
    const jpeg = await postImage(`${server.url}/v1/classify?top_k=2`, photos[0].bytes, 'application/octet-stream');
    assert.equal(jpeg.status, 200);
    assertRanked((await jpeg.json()) as ClassifyBody, labels, 2);
    const png = await postImage(`${server.url}/v1/classify`, new Uint8Array(await sharp(photos[1].bytes).png().toBuffer()), 'application/octet-stream');
    assert.equal(png.status, 200);
    const text = await postImage(`${server.url}/v1/classify`, 'plain words, no picture', 'application/octet-stream');
    assert.equal(text.status, 400);
    assert.equal((await errorOf(text)).code, 'unsupported');
    // curl's default for --data-binary: refused, saying how to send it instead.
    const form = await postImage(`${server.url}/v1/classify`, photos[0].bytes, 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
    assert.match((await errorOf(form)).message, /curl -H 'Content-Type: image\/jpeg' --data-binary @photo\.jpg/);
  });

  test('POST /v1/classify/batch refuses non-multipart bodies and empty forms', async () => {
    const raw = await postImage(`${server.url}/v1/classify/batch`, photos[0].bytes);
    assert.equal(raw.status, 415);
    const form = new FormData();
    form.append('note', 'no files here');
    const empty = await fetch(`${server.url}/v1/classify/batch`, { method: 'POST', body: form });
    assert.equal(empty.status, 400);
    assert.equal((await errorOf(empty)).code, 'no-files');
    const cut = await fetch(`${server.url}/v1/classify/batch`, {
      method: 'POST',
      body: '--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nabc',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    assert.equal(cut.status, 400);
    assert.equal((await errorOf(cut)).code, 'malformed-multipart');
  });

  test('GET /metrics exposes request, error, batch, queue and latency metrics', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    for (const name of ['footwear_http_requests_total', 'footwear_errors_total', 'footwear_batch_size', 'footwear_queue_depth', 'footwear_http_request_duration_seconds']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(text, /footwear_http_requests_total\{route="\/v1\/classify",method="POST",status="200"\} [1-9]/);
    assert.match(text, /footwear_errors_total\{kind="unsupported-media-type"\} [1-9]/);
    assert.match(text, /footwear_batch_size_count [1-9]/);
    // Images have been classified, so at least one batch buffer (max-batch x 224 x 224 x 3 floats) exists.
    const bufferBytes = Number(/^footwear_batch_buffer_bytes (\d+)$/m.exec(text)?.[1]);
    assert.ok(bufferBytes > 0 && bufferBytes % (224 * 224 * 3 * 4) === 0, `footwear_batch_buffer_bytes ${bufferBytes}`);
  });

  test('the web demo folder is served at / with cross-origin isolation and content types', async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(index.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await index.text(), /<title>demo<\/title>/);

    const mjs = await fetch(`${server.url}/assets/app.mjs`);
    assert.equal(mjs.status, 200);
    assert.match(mjs.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(await mjs.text(), 'export const x = 1;\n');

    const wasm = await fetch(`${server.url}/assets/ort.wasm`);
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal((await wasm.arrayBuffer()).byteLength, 8);

    for (const missing of ['/nope.js', '/assets/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/%00']) {
      const response = await fetch(`${server.url}${missing}`);
      assert.equal(response.status, 404, missing);
      assert.equal((await errorOf(response)).code, 'not-found');
    }
  });

  test('unknown routes and undecodable URLs answer JSON errors', async () => {
    const response = await fetch(`${server.url}/v1/nothing`, { method: 'POST', body: 'x', headers: { 'content-type': 'image/jpeg' } });
    assert.equal(response.status, 404);
    assert.equal((await errorOf(response)).code, 'not-found');
    const bad = await fetch(`${server.url}/%E0%A4%A`);
    assert.equal(bad.status, 400);
    assert.equal((await errorOf(bad)).code, 'bad-request');
  });
});

describe('footwear serve under load and shutdown', () => {
  test('a full queue answers 429 with Retry-After; everything admitted succeeds', async () => {
    const server = await startServer({ model: modelDir, port: 0, maxQueue: 1, maxBatch: 1 });
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => postImage(`${server.url}/v1/classify`, photos[i % photos.length].bytes)));
      const statuses = responses.map((r) => r.status);
      assert.ok(statuses.includes(429), `some request was refused: ${statuses.join(',')}`);
      assert.ok(statuses.includes(200), `some request was served: ${statuses.join(',')}`);
      for (const response of responses) {
        assert.ok(response.status === 200 || response.status === 429, `status ${response.status}`);
        if (response.status === 429) {
          assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
          assert.equal((await errorOf(response)).code, 'queue-full');
        } else {
          await response.arrayBuffer();
        }
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /footwear_errors_total\{kind="queue-full"\} [1-9]/);
      assert.match(metrics, /footwear_queue_depth 0/);
    } finally {
      await server.close();
    }
  });

  test('with room in the queue, an image that would wait longer than max-wait-ms is refused at once', async () => {
    const server = await startServer({ model: modelDir, port: 0, maxQueue: 256, maxBatch: 4, maxWaitMs: 1 });
    try {
      // Until a batch has run there is no pace to judge a wait by, so the first image is served.
      const first = await postImage(`${server.url}/v1/classify`, photos[0].bytes);
      assert.equal(first.status, 200);
      await first.arrayBuffer();
      // A model takes far more than 1 ms an image, so the second of a burst already waits too long.
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => postImage(`${server.url}/v1/classify`, photos[i % photos.length].bytes)));
      const statuses = responses.map((r) => r.status);
      assert.ok(statuses.includes(429) && statuses.includes(200), statuses.join(','));
      for (const response of responses) {
        if (response.status === 429) {
          assert.match(response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
          assert.equal((await errorOf(response)).code, 'queue-full');
        } else {
          assert.equal(response.status, 200);
          await response.arrayBuffer();
        }
      }
    } finally {
      await server.close();
    }
  });

  test('/readyz says 503 while the model loads; close() drains accepted requests, then refuses', async () => {
    let early: Promise<Response> | undefined;
    const server = await startServer({
      model: modelDir,
      port: 0,
      maxBatch: 1,
      // Room for all six (the default holds two batches: 2 images at max-batch 1).
      maxQueue: 6,
      onListening: (url) => {
        early = fetch(`${url}/readyz`);
      },
    });
    const loading = await early;
    assert.equal(loading?.status, 503);
    assert.equal((await errorOf(loading as Response)).code, 'not-ready');

    let settled = 0;
    const inFlight = photos.slice(0, 6).map((p) => postImage(`${server.url}/v1/classify`, p.bytes).finally(() => settled++));
    // close() must begin only once the server has accepted all six: accepted and unanswered images
    // are queued or on the one busy worker (batches of one). Polls are bounded; nothing is timed.
    for (let i = 0; i < 1000; i++) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      if (gauge('footwear_queue_depth') + gauge('footwear_workers_busy') + settled >= 6) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const closed = server.close();
    const answered = await Promise.all(inFlight);
    assert.deepEqual(
      answered.map((r) => r.status),
      answered.map(() => 200),
    );
    for (const r of answered) assertRanked((await r.json()) as ClassifyBody, ['Boot', 'Sandal', 'Shoe'], 3);
    await closed;
    await assert.rejects(postImage(`${server.url}/v1/classify`, photos[0].bytes), 'the port is closed after close()');
  });

  test('close() while a batch runs for clients that already left finishes cleanly', async () => {
    const server = await startServer({ model: modelDir, port: 0, maxBatch: 16, maxDelayMs: 50 });
    const gone = new AbortController();
    const requests = Array.from({ length: 16 }, (_, i) =>
      postImage(`${server.url}/v1/classify`, photos[i % photos.length].bytes, 'image/jpeg', gone.signal).then(
        (r) => r,
        () => undefined,
      ),
    );
    // Wait (a bounded number of polls, asserting nothing about time) until a worker is busy.
    let busy = false;
    for (let i = 0; i < 500 && !busy; i++) {
      busy = /^footwear_workers_busy 1$/m.test(await (await fetch(`${server.url}/metrics`)).text());
      if (!busy) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(busy, 'a worker was running a batch when the clients left');
    gone.abort();
    // Ending a worker inside ONNX Runtime's run would abort this whole test process.
    await server.close();
    const responses = await Promise.all(requests);
    assert.equal(responses.length, 16);
    for (const response of responses) if (response) assert.equal(response.status, 200, 'a client that stayed got its answer');
    await assert.rejects(postImage(`${server.url}/v1/classify`, photos[0].bytes), 'the port is closed after close()');
  });

  test('a missing model rejects startServer before it listens', async () => {
    const missing = path.join(os.tmpdir(), 'footwear-no-such-model');
    let url = '';
    await assert.rejects(
      startServer({ model: missing, port: 0, onListening: (u) => (url = u) }),
      (error: Error) => error.name === 'ModelError' && error.message.includes(missing),
    );
    assert.equal(url, '', 'never listened');
  });

  test('a model whose spec reads but whose graph disagrees rejects startServer and frees the port', async () => {
    // Four labels in the spec, three scores from the graph: found only once a worker runs it.
    const model = onnx.ModelProto.decode(await readFile(path.join(modelDir, 'model.onnx')));
    model.metadataProps = model.metadataProps.map((p) => {
      if (p.key !== SPEC_METADATA_KEY) return p;
      const spec = JSON.parse(p.value ?? '{}') as { labels: string[] };
      return { key: p.key, value: JSON.stringify({ ...spec, labels: [...spec.labels, 'Slipper'] }) };
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'footwear-serve-four-labels-'));
    const file = path.join(dir, 'four-labels.onnx');
    await writeFile(file, onnx.ModelProto.encode(model).finish());
    let url = '';
    await assert.rejects(
      startServer({ model: file, port: 0, onListening: (u) => (url = u) }),
      (error: Error) => error.name === 'ModelError' && /spec lists 4 labels/.test(error.message),
    );
    assert.ok(url);
    await assert.rejects(fetch(`${url}/healthz`));
    await rm(dir, { recursive: true, force: true });
  });
});
