import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OrderedPool } from '../src/node/ordered-pool.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OrderedPool', () => {
  test('hands results back in input order however the tasks finish', async () => {
    const delays = [30, 5, 20, 0, 10, 25, 1, 15];
    const pool = new OrderedPool(delays, async (ms) => {
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
    const pool = new OrderedPool([...Array(10).keys()], async (i) => {
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
    const pool = new OrderedPool([1, 2, 3], async (n) => {
      if (n === 2) throw new Error('bad item');
      return n;
    }, { concurrency: 3, lookahead: 3 });
    assert.equal(await pool.next(), 1);
    await assert.rejects(pool.next(), /bad item/);
    assert.equal(await pool.next(), 3);
  });

  test('close starts nothing more', async () => {
    const started: number[] = [];
    const pool = new OrderedPool([1, 2, 3, 4], async (n) => {
      started.push(n);
      await sleep(1);
      return n;
    }, { concurrency: 1, lookahead: 4 });
    pool.close();
    await sleep(20);
    assert.deepEqual(started, [1]);
  });
});
