import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultPreprocess, isFailure } from '../src/core/index.ts';
import { prepareFile } from '../src/node/index.ts';
import { augmentedView, backgroundMask, mirror, type InputImage } from '../src/train/augment/index.ts';
import { defaultTrainOptions, SMALL_DATA_VIEWS, train } from '../src/train/index.ts';
import { settingsForData } from '../src/train/small-data.ts';
import { firstFiles, SHARED_MISSING, SHOES, subsetDataset } from '../fixtures/shared-data.ts';

const SIZE = 96;

async function photo(): Promise<{ image: InputImage; file: string }> {
  const [{ file }] = await firstFiles(path.join(SHOES, 'train'), 1);
  const prepared = await prepareFile(file, defaultPreprocess({ range: [0, 1], height: SIZE, width: SIZE }));
  if (isFailure(prepared)) throw prepared.error;
  return { image: { data: prepared.input, height: SIZE, width: SIZE, range: [0, 1] }, file };
}

const differs = (a: Float32Array, b: Float32Array) => a.reduce((n, v, i) => n + (Math.abs(v - b[i]) > 1e-3 ? 1 : 0), 0) / a.length;

test('views: 0 is the photo, 1 its mirror, later ones are new, in range, and the same on every draw', { skip: SHARED_MISSING }, async () => {
  const { image, file } = await photo();
  assert.equal(augmentedView(image, 0, { file, seed: 1 }), image);
  assert.deepEqual(augmentedView(image, 1, { file, seed: 1 }).data, mirror(image).data);
  assert.deepEqual(mirror(mirror(image)).data, image.data);
  const views = [2, 3, 4, 5].map((v) => augmentedView(image, v, { file, seed: 1 }).data);
  for (const view of views) {
    assert.ok(differs(view, image.data) > 0.05, 'a random view changes the photo');
    assert.ok(view.every((v) => v >= 0 && v <= 1), 'values stay in the model range');
  }
  assert.ok(differs(views[0], views[1]) > 0.05, 'two views differ from each other');
  assert.deepEqual(augmentedView(image, 2, { file, seed: 1 }).data, views[0], 'the same photo, view and seed draw the same view');
  assert.ok(differs(augmentedView(image, 2, { file, seed: 2 }).data, views[0]) > 0.05, 'another seed draws another view');
});

test('the background mask finds the studio white round a real shoe and leaves the shoe', { skip: SHARED_MISSING }, async () => {
  const { image } = await photo();
  const mask = backgroundMask(image);
  assert.equal(mask[0], 1, 'the corner is background');
  const centre = mask[(SIZE / 2) * SIZE + SIZE / 2];
  assert.equal(centre, 0, 'the centre (the shoe) is not');
  const share = mask.reduce((a, b) => a + b, 0) / mask.length;
  assert.ok(share > 0.2 && share < 0.95, `background share ${share.toFixed(2)}`);
});

test('train --augment extracts each view of each photo and the head learns from all of them', { skip: SHARED_MISSING }, async () => {
  const data = await subsetDataset(path.join(SHOES, 'train'), 8, 'shoes-train');
  const out = await mkdtemp(path.join(os.tmpdir(), 'fw-augment-'));
  const result = await train({ ...defaultTrainOptions(data, out), augment: 3, epochs: 2, valSplit: 0.25, export: false, ep: 'cpu' });
  const index = JSON.parse(await readFile(path.join(out, 'cache', 'index.json'), 'utf8')) as { sets: { name: string; n: number }[] };
  const trainSets = index.sets.filter((s) => s.name.startsWith('train'));
  assert.equal(trainSets.length, 3, 'one cached set per view');
  assert.ok(trainSets.every((s) => s.n === 18), JSON.stringify(index.sets));
  assert.equal(index.sets.find((s) => s.name === 'val')?.n, 6, 'validation is the photos alone');
  const features = await Promise.all(trainSets.map((s) => readFile(path.join(out, 'cache', `${s.name}.f32`))));
  assert.ok(!features[0].equals(features[1]) && !features[1].equals(features[2]), 'each view has its own features');
  assert.equal(result.classCounts.reduce((n, c) => n + c.train, 0), 18, 'photos are counted once, whatever the views');
});

test("'auto' gives small datasets more views and smaller batches, and leaves large ones and explicit values alone", () => {
  const samples = (perClass: number) => [0, 1, 2].flatMap((label) => Array.from({ length: perClass }, (_, i) => ({ file: `${label}-${i}.jpg`, label })));
  const labels = ['Boot', 'Sandal', 'Shoe'];
  const small = settingsForData({ augment: 'auto', batchSize: 'auto' }, samples(36), labels);
  assert.deepEqual([small.augment, small.batchSize], [SMALL_DATA_VIEWS, 8]);
  assert.match(small.note ?? '', /small dataset: 8 views of each photo \(the smallest class has 36 training photos, under 100\), batch 8/);
  const large = settingsForData({ augment: 'auto', batchSize: 'auto' }, samples(3000), labels);
  assert.deepEqual([large.augment, large.batchSize, large.note], [1, 64, undefined]);
  const unbalanced = settingsForData({ augment: 'auto', batchSize: 'auto' }, [...samples(500).filter((s) => s.label !== 0), ...samples(20).filter((s) => s.label === 0)], labels);
  assert.equal(unbalanced.augment, SMALL_DATA_VIEWS, 'the smallest class decides');
  const explicit = settingsForData({ augment: 1, batchSize: 64 }, samples(36), labels);
  assert.deepEqual([explicit.augment, explicit.batchSize, explicit.note], [1, 64, undefined]);
});
