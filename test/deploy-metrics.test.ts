import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { metricFamilies, sample, scrape } from './helpers-metrics.ts';

// The queue-time metric the autoscaler reads (deploy/hpa.yaml), on a real server with the real
// trained model and real photos. No timing is asserted: the one lower bound below follows from
// the batcher's rule that a partial batch leaves only once its oldest photo has waited
// max-delay-ms, so a busy machine can only make the waits longer.

const MAX_DELAY_MS = 20;
const WAIT = 'footwear_queue_wait_seconds';
const CLASSIFIED = 'footwear_http_requests_total{route="/v1/classify",method="POST",status="200"}';

describe('footwear_queue_wait_seconds on /metrics', () => {
  let server: RunningServer;
  let photos: Uint8Array<ArrayBuffer>[] = [];

  before(async () => {
    const files = await firstFiles(path.join(SHOES, 'test'), 2);
    photos = await Promise.all(files.map(async (f) => new Uint8Array(await readFile(f.file))));
    server = await startServer({ model: await trainedModel(), port: 0, maxBatch: 16, maxDelayMs: MAX_DELAY_MS });
  });

  after(async () => {
    await server?.close();
  });

  const classify = async (bytes: Uint8Array<ArrayBuffer> | string, type = 'image/jpeg') =>
    (await fetch(`${server.url}/v1/classify`, { method: 'POST', body: bytes, headers: { 'content-type': type } })).status;

  test('is a histogram family with _sum and _count from the start', async () => {
    const { text, samples } = await scrape(server.url);
    assert.ok(metricFamilies(text).has(WAIT), `${WAIT} is exported`);
    assert.match(text, new RegExp(`^# TYPE ${WAIT} histogram$`, 'm'));
    assert.ok(samples.has(`${WAIT}_sum`) && samples.has(`${WAIT}_count`), 'sum and count are there before any traffic, so the rate is defined');
  });

  test('one photo alone: counted once, and its wait is at least max-delay-ms', async () => {
    const before = (await scrape(server.url)).samples;
    assert.equal(await classify(photos[0]), 200);
    const after = (await scrape(server.url)).samples;
    assert.equal(sample(after, `${WAIT}_count`) - sample(before, `${WAIT}_count`), 1);
    assert.ok(sample(after, `${WAIT}_sum`) - sample(before, `${WAIT}_sum`) >= MAX_DELAY_MS / 1000, 'a lone photo waits for its batch to fill until max-delay-ms');
    assert.equal(sample(after, `${WAIT}_bucket{le="0.01"}`), sample(before, `${WAIT}_bucket{le="0.01"}`), 'so not in a bucket below 20 ms');
    assert.equal(sample(after, `${WAIT}_bucket{le="+Inf"}`) - sample(before, `${WAIT}_bucket{le="+Inf"}`), 1);
  });

  test('concurrent photos: one wait per classified photo, matching the request counter', async () => {
    const before = (await scrape(server.url)).samples;
    const statuses = await Promise.all(photos.map((p) => classify(p)));
    assert.deepEqual(statuses, photos.map(() => 200));
    const after = (await scrape(server.url)).samples;
    const waits = sample(after, `${WAIT}_count`) - sample(before, `${WAIT}_count`);
    assert.equal(waits, photos.length);
    assert.equal(sample(after, CLASSIFIED) - sample(before, CLASSIFIED), waits, 'every 200 took exactly one seat in a batch');
    // Fewer photos than max-batch: every batch left partial, after its oldest waited max-delay-ms.
    assert.ok(photos.length < 16);
    assert.ok(sample(after, `${WAIT}_sum`) - sample(before, `${WAIT}_sum`) >= MAX_DELAY_MS / 1000);
  });

  test('uploads refused before the batcher add no wait', async () => {
    const before = (await scrape(server.url)).samples;
    assert.equal(await classify('not a photo at all'), 400);
    assert.equal(await classify(photos[0].subarray(0, 300)), 400);
    const after = (await scrape(server.url)).samples;
    assert.equal(sample(after, `${WAIT}_count`), sample(before, `${WAIT}_count`));
    assert.equal(sample(after, `${WAIT}_sum`), sample(before, `${WAIT}_sum`));
  });
});
