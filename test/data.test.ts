import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DatasetError, discoverDataset, stratifiedSplit } from '../src/data/index.ts';
import { SHOES } from '../fixtures/shared-data.ts';

test('discovers the shared catalogue set: one class per folder, sorted, every photo found', async () => {
  const ds = await discoverDataset(path.join(SHOES, 'test'));
  assert.deepEqual(ds.labels, ['Boot', 'Sandal', 'Shoe']);
  assert.equal(ds.samples.length, 1800);
  for (let c = 0; c < 3; c++) assert.equal(ds.samples.filter((s) => s.label === c).length, 600);
  assert.ok(ds.samples.some((s) => / \(\d+\)\.jpg$/.test(s.file)), 'names with spaces and parentheses are kept');
});

test('a dataset with fewer than two classes stops with a clear message', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fw-one-class-'));
  await mkdir(path.join(root, 'Boot'));
  await writeFile(path.join(root, 'Boot', 'a.jpg'), 'x');
  await assert.rejects(discoverDataset(root), (e: Error) => e instanceof DatasetError && /found 1 class folder\(s\) \(Boot\).*at least 2/.test(e.message));
});

test('an empty class folder stops with a message naming it', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fw-empty-class-'));
  await mkdir(path.join(root, 'Boot'));
  await mkdir(path.join(root, 'Sandal'));
  await writeFile(path.join(root, 'Boot', 'a.jpg'), 'x');
  await assert.rejects(discoverDataset(root), (e: Error) => e instanceof DatasetError && /no images: Sandal/.test(e.message));
});

test('a missing dataset folder names the folder', async () => {
  await assert.rejects(discoverDataset('/nonexistent/footwear'), /\/nonexistent\/footwear: cannot read dataset folder \(ENOENT\)/);
});

test('the validation split is stratified and the same for the same seed', async () => {
  const ds = await discoverDataset(path.join(SHOES, 'test'));
  const a = stratifiedSplit(ds.samples, 0.1, 42);
  const b = stratifiedSplit(ds.samples, 0.1, 42);
  const c = stratifiedSplit(ds.samples, 0.1, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.val, c.val);
  assert.equal(a.val.length, 180);
  for (let label = 0; label < 3; label++) assert.equal(a.val.filter((s) => s.label === label).length, 60);
  const valFiles = new Set(a.val.map((s) => s.file));
  assert.ok(a.train.every((s) => !valFiles.has(s.file)), 'no photo is in both train and validation');
});
