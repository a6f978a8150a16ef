import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage, imageToInput } from '../src/node/index.ts';
import { defaultPreprocess } from '../src/core/index.ts';
import { resizePixels } from './support/pixels.ts';
import { resizeToInput } from '../src/core/index.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';

const spec = defaultPreprocess();

test('a constant image stays constant through resize, and letterboxing pads with the background', () => {
  const src = new Uint8Array(40 * 30 * 3).fill(100);
  const out = resizePixels(src, 40, 30, 3, { ...spec, height: 20, width: 20 });
  assert.equal(out.length, 20 * 20 * 3);
  // 40x30 -> 20x15 inside 20x20: rows 0-1 and 17-19 are padding (top = floor(5/2) = 2)
  assert.equal(out[0], 255);
  assert.equal(out[(19 * 20 + 10) * 3], 255);
  for (let y = 2; y < 17; y++) for (let x = 0; x < 20; x++) assert.ok(Math.abs(out[(y * 20 + x) * 3] - 100) < 1e-3);
});

test('fill stretches to the whole grid and RGBA input ignores the alpha byte', () => {
  const rgba = new Uint8Array(8 * 4 * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set([10, 20, 30, 0], i);
  const out = resizePixels(rgba, 8, 4, 4, { ...spec, resize: 'fill', height: 6, width: 6 });
  for (let i = 0; i < out.length; i += 3) assert.deepEqual([...out.subarray(i, i + 3)].map(Math.round), [10, 20, 30]);
});

test('scaling maps 0..255 onto the spec range', () => {
  // A 1x3 image onto a 1x3 grid with 'fill' is the identity resample, so only the scaling shows.
  const t = resizeToInput(Uint8Array.of(0, 0, 0, 255, 255, 255, 0, 255, 0), 3, 1, 3, { ...spec, resize: 'fill', width: 3, height: 1, range: [-1, 1] });
  assert.deepEqual([...t], [-1, -1, -1, 1, 1, 1, -1, 1, -1]);
});

test('real catalogue photos decode to 136x102 RGB and preprocess to the model grid', async () => {
  for (const { file } of await firstFiles(path.join(SHOES, 'test'), 2)) {
    const bytes = await readFile(file);
    const decoded = await decodeImage(bytes, file, spec.background);
    assert.equal(decoded.channels, 3);
    assert.ok(decoded.width >= 135 && decoded.height === 102, `${file}: ${decoded.width}x${decoded.height}`);
    const input = await imageToInput(bytes, file, spec);
    assert.equal(input.length, 224 * 224 * 3);
    assert.ok(input.every((v) => v >= 0 && v <= 1 + 1e-6)); // the resampler's float sums may land a hair above 255
    // 4:3 photos are letterboxed: the top-left and bottom-right corners are white padding
    assert.ok(input[0] > 0.99 && input[(224 * 224 - 1) * 3] > 0.99);
  }
});

test('EXIF orientation is applied before resizing', async () => {
  // a 40x20 image, left half black, right half white, stored rotated with orientation 6 (90° CW)
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 20; x < 40; x++) raw.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
  const upright = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).png().toBuffer();
  // rotate the pixels 90° counter-clockwise and tag orientation 6 so a viewer shows them upright
  const stored = await sharp(upright).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toBuffer();
  const decoded = await decodeImage(stored, 'rotated.jpg', spec.background);
  assert.equal(decoded.width, 40);
  assert.equal(decoded.height, 20);
  assert.ok(decoded.data[(10 * 40 + 5) * 3] < 30, 'left stays dark');
  assert.ok(decoded.data[(10 * 40 + 35) * 3] > 225, 'right stays light');
});

test('transparency is flattened onto the background colour', async () => {
  const rgba = Buffer.alloc(4 * 4 * 4); // fully transparent black
  const png = await sharp(rgba, { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer();
  const decoded = await decodeImage(png, 'alpha.png', [255, 255, 255]);
  assert.ok(decoded.data.every((v) => v === 255));
});
