import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Admission, ServiceTime, refused, type Refusal, type Ticket } from '../src/serve/admission.ts';
import { Batcher, type BatchResult, type BatchRunner, type InputWriter } from '../src/serve/batcher.ts';

// The batcher and the bounded queue on their own, against a runner the test drives by hand:
// which images share a batch, and who gets which result. Nothing here depends on timing.

const SIZE = 2;
const CLASSES = 2;

/**
 * One worker whose batches finish when the test says so; probabilities echo each input's first
 * value, and the inputs' buffer comes back with them, as from a real worker.
 */
class ManualRunner implements BatchRunner {
  batches: number[][] = [];
  buffers: Float32Array[] = [];
  private finish: (() => void)[] = [];
  private busy = false;
  onIdle = () => {};

  get idle(): number {
    return this.busy ? 0 : 1;
  }

  run(inputs: Float32Array, count: number): Promise<BatchResult> {
    this.busy = true;
    this.batches.push(Array.from({ length: count }, (_, i) => inputs[i * SIZE]));
    this.buffers.push(inputs);
    return new Promise((resolve, reject) => {
      this.finish.push(() => {
        this.busy = false;
        if (inputs[0] < 0) reject(new Error('model failed'));
        else resolve({ probs: Float32Array.from({ length: count * CLASSES }, (_, j) => inputs[Math.floor(j / CLASSES) * SIZE]), inputs });
        queueMicrotask(() => this.onIdle());
      });
    });
  }

  complete(): void {
    const next = this.finish.shift();
    assert.ok(next, 'a batch is running');
    next();
  }
}

const image =
  (value: number): InputWriter =>
  (out, offset) =>
    out.fill(value, offset, offset + SIZE);

function setup(maxBatch: number, maxDelayMs = 60_000) {
  const runner = new ManualRunner();
  const sizes: number[] = [];
  const batcher = new Batcher(runner, { maxBatch, maxDelayMs, inputSize: SIZE, classes: CLASSES, onBatch: (n) => sizes.push(n) });
  runner.onIdle = () => batcher.pump();
  return { runner, batcher, sizes };
}

describe('serve batcher', () => {
  test('a full batch leaves at once, and each image gets its own result', async () => {
    const { runner, batcher, sizes } = setup(3);
    const results = [1, 2, 3].map((v) => batcher.submit(image(v)));
    assert.deepEqual(runner.batches, [[1, 2, 3]]);
    runner.complete();
    assert.deepEqual(
      (await Promise.all(results)).map((p) => [...p]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
    assert.deepEqual(sizes, [3]);
  });

  test('while the worker is busy, images gather into the next batch, up to maxBatch', async () => {
    const { runner, batcher } = setup(4, 0);
    const first = batcher.submit(image(1));
    const rest = [2, 3, 4, 5, 6, 7].map((v) => batcher.submit(image(v)));
    assert.deepEqual(runner.batches, [[1]]);
    runner.complete();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(runner.batches, [[1], [2, 3, 4, 5]]);
    runner.complete();
    await Promise.all(rest.slice(0, 4));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(runner.batches, [[1], [2, 3, 4, 5], [6, 7]]);
    runner.complete();
    assert.deepEqual(
      (await Promise.all(rest)).map((p) => p[0]),
      [2, 3, 4, 5, 6, 7],
    );
  });

  test('a partial batch leaves once its oldest image has waited maxDelayMs', async () => {
    const { runner, batcher } = setup(16, 1);
    const pending = [1, 2].map((v) => batcher.submit(image(v)));
    assert.deepEqual(runner.batches, [], 'not before the delay');
    while (runner.batches.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepEqual(runner.batches, [[1, 2]]);
    runner.complete();
    await Promise.all(pending);
  });

  test('a failed run fails only its own images; close() fails the waiting ones and frees their places', async () => {
    const { runner, batcher } = setup(2);
    const failing = [-1, 2].map((v) => batcher.submit(image(v)));
    let released = 0;
    const waiting = batcher.submit(image(3), () => released++);
    runner.complete();
    for (const p of failing) await assert.rejects(p, /model failed/);
    batcher.close(new Error('shutting down'));
    await assert.rejects(waiting, /shutting down/);
    assert.equal(released, 1);
    assert.equal(batcher.waiting, 0);
  });

  test('a writer that throws fails only its own image, and its seat goes to the next one', async () => {
    const { runner, batcher } = setup(2);
    const broken = batcher.submit(() => {
      throw new RangeError('no pixels');
    });
    await assert.rejects(broken, /no pixels/);
    assert.equal(batcher.waiting, 0);
    const results = [1, 2].map((v) => batcher.submit(image(v)));
    assert.deepEqual(runner.batches, [[1, 2]]);
    runner.complete();
    assert.deepEqual(
      (await Promise.all(results)).map((p) => p[0]),
      [1, 2],
    );
  });

  test('batch buffers come back from the runner and are filled again, not made anew', async () => {
    const { runner, batcher } = setup(2);
    const roundTrip = async (values: number[]) => {
      const results = values.map((v) => batcher.submit(image(v)));
      runner.complete();
      return (await Promise.all(results)).map((p) => p[0]);
    };
    for (let round = 0; round < 4; round++) assert.deepEqual(await roundTrip([round * 2 + 1, round * 2 + 2]), [round * 2 + 1, round * 2 + 2]);
    assert.equal(new Set(runner.buffers).size, 1, 'one buffer served every batch');
    // A buffer in a worker's hands is never written: images gathering meanwhile get another.
    const running = [10, 11].map((v) => batcher.submit(image(v)));
    const gathering = [12, 13].map((v) => batcher.submit(image(v)));
    runner.complete();
    await Promise.all(running);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(runner.batches.slice(-2), [
      [10, 11],
      [12, 13],
    ]);
    assert.notEqual(runner.buffers[5], runner.buffers[4]);
    runner.complete();
    assert.deepEqual(
      (await Promise.all(gathering)).map((p) => p[0]),
      [12, 13],
    );
    assert.deepEqual(await roundTrip([14, 15]), [14, 15]);
    assert.equal(new Set(runner.buffers).size, 2, 'two buffers in all');
    assert.equal(batcher.bufferBytes, 2 * 2 * SIZE * 4);
  });
});

describe('serve admission', () => {
  const place = (entry: Ticket | Refusal): Ticket => {
    assert.ok(!refused(entry), `refused: ${JSON.stringify(entry)}`);
    return entry;
  };

  test('holds at most capacity places; releasing twice gives back one', () => {
    const queue = new Admission(2);
    const a = place(queue.tryEnter());
    place(queue.tryEnter());
    assert.deepEqual(queue.tryEnter(), { reason: 'queue-full', expectedWaitMs: undefined });
    assert.equal(queue.depth, 2);
    a.release();
    a.release();
    assert.equal(queue.depth, 1);
    place(queue.tryEnter());
    assert.deepEqual(queue.tryEnter(), { reason: 'queue-full', expectedWaitMs: undefined });
  });

  test('images with a worker count against capacity until their batch is done', () => {
    const load = { inFlight: 16 };
    const queue = new Admission(32, 0, { inFlight: () => load.inFlight, msPerImage: () => 10, workers: () => 1 });
    for (let i = 0; i < 16; i++) place(queue.tryEnter());
    assert.equal(queue.inServer, 32);
    // 32 in the server at 10 ms an image: the refusal says how long the queue would take.
    assert.deepEqual(queue.tryEnter(), { reason: 'queue-full', expectedWaitMs: 320 });
    load.inFlight = 0; // the running batch is done: room for 16 more
    for (let i = 0; i < 16; i++) place(queue.tryEnter());
    assert.equal(queue.inServer, 32);
    assert.equal(refused(queue.tryEnter()), true);
  });

  test('refuses an image whose expected wait, by the recent pace, is over the limit', () => {
    const load = { inFlight: 4, msPerImage: undefined as number | undefined, workers: 2 };
    const queue = new Admission(100, 50, { inFlight: () => load.inFlight, msPerImage: () => load.msPerImage, workers: () => load.workers });
    // Before any batch has run there is no pace to judge by: only the count applies.
    const early = Array.from({ length: 8 }, () => place(queue.tryEnter()));
    early.forEach((t) => t.release());
    load.msPerImage = 10;
    // (held + 4 in flight) x 10 ms / 2 workers: 20 ms empty, 50 ms at 6 held, 55 ms at 7.
    const held = Array.from({ length: 7 }, () => place(queue.tryEnter()));
    assert.equal(queue.expectedWaitMs(), 55);
    assert.deepEqual(queue.tryEnter(), { reason: 'wait-too-long', expectedWaitMs: 55 });
    held[0].release();
    place(queue.tryEnter());
    load.workers = 4; // twice the workers, half the wait
    assert.equal(queue.expectedWaitMs(), 27.5);
    const none = new Admission(100, 0, { inFlight: () => 50, msPerImage: () => 1000, workers: () => 1 });
    place(none.tryEnter());
  });

  test('the pace is a moving average of per-image batch times', () => {
    const pace = new ServiceTime(0.5);
    assert.equal(pace.msPerImage, undefined);
    pace.observe(160, 16);
    assert.equal(pace.msPerImage, 10);
    pace.observe(40, 2);
    assert.equal(pace.msPerImage, 15);
    pace.observe(Number.NaN, 3);
    pace.observe(10, 0);
    assert.equal(pace.msPerImage, 15);
  });
});
