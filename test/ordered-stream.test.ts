import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OrderedStream, type OrderedStreamOptions } from '../src/node/ordered-stream.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* from<T>(items: readonly T[], onPull?: (pulled: number) => void): AsyncGenerator<T> {
  for (const [i, item] of items.entries()) {
    onPull?.(i + 1);
    yield item;
  }
}

/** OrderedStream over an array, with the array's length for loops that count down. */
function poolOf<T, R>(items: readonly T[], task: (item: T) => Promise<R>, options: OrderedStreamOptions) {
  const stream = new OrderedStream(from(items), task, options);
  let taken = 0;
  return {
    get remaining() {
      return items.length - taken;
    },
    async next(): Promise<R> {
      taken++;
      const r = await stream.next();
      if (r.done) throw new RangeError('no items left');
      return r.value;
    },
    close: () => stream.close(),
  };
}

describe('OrderedStream', () => {
  test('hands results back in input order however the tasks finish', async () => {
    const delays = [30, 5, 20, 0, 10, 25, 1, 15];
    const pool = poolOf(delays, async (ms) => {
      await sleep(ms);
      return ms;
    }, { concurrency: 3, lookahead: 8 });
    const out: number[] = [];
    while (pool.remaining > 0) out.push(await pool.next());
    assert.deepEqual(out, delays);
    await assert.rejects(pool.next(), /no items left/);
  });

  test('never runs more than `concurrency` tasks, and works ahead of the consumer', async () => {
    // Each task waits until the test lets it finish, so what has started is decided by the pool's
    // rules alone, not by timers.
    const release = new Map<number, () => void>();
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const pool = poolOf([...Array(10).keys()], async (i) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => release.set(i, resolve));
      running--;
      return i;
    }, { concurrency: 2, lookahead: 4 });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const finish = async (i: number) => {
      release.get(i)?.();
      await settle();
    };
    await settle();
    assert.deepEqual(started, [0, 1], 'concurrency 2: two tasks at once');
    await finish(0);
    await finish(1);
    assert.deepEqual(started, [0, 1, 2, 3], 'nothing taken yet: the pool fills its lookahead on its own');
    await finish(2);
    await finish(3);
    assert.deepEqual(started, [0, 1, 2, 3], 'and then waits for the consumer');
    assert.equal(await pool.next(), 0);
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3, 4], 'one taken, one more started');
    const rest: Promise<number>[] = [];
    while (pool.remaining > 0) {
      const next = pool.next();
      rest.push(next);
      for (const resolve of release.values()) resolve();
      await next;
    }
    assert.deepEqual(await Promise.all(rest), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(peak, 2);
  });

  test('a failing task fails only its own turn', async () => {
    const pool = poolOf([1, 2, 3], async (n) => {
      if (n === 2) throw new Error('bad item');
      return n;
    }, { concurrency: 3, lookahead: 3 });
    assert.equal(await pool.next(), 1);
    await assert.rejects(pool.next(), /bad item/);
    assert.equal(await pool.next(), 3);
  });

  test('ends when the source ends, however often it is asked', async () => {
    const stream = new OrderedStream(from([1, 2]), async (n) => n * 10, { concurrency: 2, lookahead: 2 });
    const out = [];
    for (let r = await stream.next(); !r.done; r = await stream.next()) out.push(r.value);
    assert.deepEqual(out, [10, 20]);
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  test('a source that fails fails the turn after its last item, even when nobody was waiting then', async () => {
    async function* failing() {
      yield 1;
      throw new Error('cannot list folder');
    }
    const stream = new OrderedStream(failing(), async (n: number) => n, { concurrency: 1, lookahead: 4 });
    await sleep(5);
    assert.deepEqual(await stream.next(), { done: false, value: 1 });
    await assert.rejects(stream.next(), /cannot list folder/);
  });

  test('pulls from the source at most `lookahead` items beyond the results taken', async () => {
    let pulled = 0;
    const stream = new OrderedStream(from([...Array(100).keys()], (n) => (pulled = n)), async (n) => n, { concurrency: 3, lookahead: 5 });
    await sleep(5);
    assert.equal(pulled, 5, 'nothing taken: five pulled, no more');
    for (let taken = 1; taken <= 100; taken++) {
      assert.equal((await stream.next()).value, taken - 1);
      assert.ok(pulled <= taken + 5, `${pulled} pulled after ${taken} taken`);
    }
    assert.equal((await stream.next()).done, true);
  });

  test('close starts nothing more', async () => {
    const started: number[] = [];
    const pool = poolOf([1, 2, 3, 4], async (n) => {
      started.push(n);
      await sleep(1);
      return n;
    }, { concurrency: 1, lookahead: 4 });
    await new Promise((resolve) => setImmediate(resolve));
    pool.close();
    await sleep(20);
    assert.deepEqual(started, [1]);
  });
});
