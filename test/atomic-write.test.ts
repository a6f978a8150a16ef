import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeFileAtomic } from '../src/node/index.ts';

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
