import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeFileAtomic } from '../src/infer/index.ts';
import { OrderedPool } from '../src/infer/ordered-pool.ts';

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
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const pool = new OrderedPool([...Array(10).keys()], async (i) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await sleep(2);
      running--;
      return i;
    }, { concurrency: 2, lookahead: 4 });
    await sleep(30); // nothing taken yet: the pool fills its lookahead on its own, then waits
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(await pool.next(), 0);
    await sleep(10);
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    while (pool.remaining > 0) await pool.next();
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

describe('writeFileAtomic', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'footwear-atomic-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('writes, replaces, and leaves no temporary file behind', async () => {
    const target = path.join(dir, 'predictions, run (1).csv');
    await writeFile(target, 'old content that is longer than the new one');
    await writeFileAtomic(target, 'file,label\r\n');
    assert.equal(await readFile(target, 'utf8'), 'file,label\r\n');
    await writeFileAtomic(target, new TextEncoder().encode('bytes too'));
    assert.equal(await readFile(target, 'utf8'), 'bytes too');
    assert.deepEqual(await readdir(dir), ['predictions, run (1).csv']);
  });

  test('missing folders are created', async () => {
    const target = path.join(dir, 'new', 'folder', 'out.csv');
    await writeFileAtomic(target, 'x');
    assert.equal(await readFile(target, 'utf8'), 'x');
  });

  test('an unwritable target is reported against the target, not the temporary file', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, '');
    const target = path.join(blocker, 'out.csv');
    await assert.rejects(writeFileAtomic(target, 'x'), (e: Error) => e.message.includes(blocker) && !e.message.includes('.tmp'));
  });
});
