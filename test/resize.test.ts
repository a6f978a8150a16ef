import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { imageToInput } from '../src/node/index.ts';
import { Classifier } from '../src/node/index.ts';
import { type OnnxOutput, type OnnxSession } from '../src/core/index.ts';
import { prepareFile } from '../src/node/index.ts';
import { defaultPreprocess, type ModelSpec, type PreprocessSpec } from '../src/core/index.ts';
import { resizePixels, scaleToRange } from './support/pixels.ts';
import { resizeToInput } from '../src/core/index.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';

// The resampler was rewritten for speed; Node and the browser must still agree to the last bit,
// so the fast code is held against the straightforward version it replaced, kept here verbatim.

function referenceTaps(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let total = 0;
    const n = Math.min(hi - lo, stride);
    for (let j = 0; j < n; j++) {
      const w = Math.max(0, 1 - Math.abs((lo + j + 0.5 - center) / filterScale));
      weights[i * stride + j] = w;
      total += w;
    }
    for (let j = 0; j < n; j++) weights[i * stride + j] /= total || 1;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

function referenceResample(src: ArrayLike<number>, width: number, height: number, channels: number, outW: number, outH: number): Float32Array {
  const h = referenceTaps(width, outW);
  const v = referenceTaps(height, outH);
  const rows = new Float32Array(height * outW * 3);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = x * h.stride;
      for (let k = 0; k < h.count[x]; k++) {
        const w = h.weights[base + k];
        const p = rowIn + (h.start[x] + k) * channels;
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      const o = (y * outW + x) * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const out = new Float32Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    const base = y * v.stride;
    for (let k = 0; k < v.count[y]; k++) {
      const w = v.weights[base + k];
      const rowIn = (v.start[y] + k) * outW * 3;
      const rowOut = y * outW * 3;
      for (let i = 0; i < outW * 3; i++) out[rowOut + i] += rows[rowIn + i] * w;
    }
  }
  return out;
}

function referenceResizeRgb(src: ArrayLike<number>, width: number, height: number, channels: number, spec: PreprocessSpec): Float32Array {
  if (spec.resize === 'fill') return referenceResample(src, width, height, channels, spec.width, spec.height);
  const scale = Math.min(spec.width / width, spec.height / height);
  const innerW = Math.max(1, Math.min(spec.width, Math.round(width * scale)));
  const innerH = Math.max(1, Math.min(spec.height, Math.round(height * scale)));
  const inner = referenceResample(src, width, height, channels, innerW, innerH);
  if (innerW === spec.width && innerH === spec.height) return inner;
  const out = new Float32Array(spec.width * spec.height * 3);
  const [br, bg, bb] = spec.background;
  for (let i = 0; i < out.length; i += 3) {
    out[i] = br;
    out[i + 1] = bg;
    out[i + 2] = bb;
  }
  const left = Math.floor((spec.width - innerW) / 2);
  const top = Math.floor((spec.height - innerH) / 2);
  for (let y = 0; y < innerH; y++) {
    out.set(inner.subarray(y * innerW * 3, (y + 1) * innerW * 3), ((top + y) * spec.width + left) * 3);
  }
  return out;
}

/** A deterministic generator, so a failure names a case that can be rerun. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Bit-for-bit equality, NaN and -0 included; reports the first differing index. */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: value ${i} is ${actual[i]}, the reference gives ${expected[i]}`);
  }
}

type Source = 'Uint8Array' | 'Uint8ClampedArray' | 'Buffer' | 'number[]';

function makeSource(kind: Source, length: number, next: () => number): ArrayLike<number> {
  const bytes = Array.from({ length }, () => Math.floor(next() * 256));
  if (kind === 'Uint8Array') return Uint8Array.from(bytes);
  if (kind === 'Uint8ClampedArray') return Uint8ClampedArray.from(bytes);
  // A view at an odd offset inside a larger allocation, as sharp's output buffers can be.
  if (kind === 'Buffer') return Buffer.concat([Buffer.alloc(3, 7), Buffer.from(bytes)]).subarray(3);
  // Any other array-like takes the general path; fractions and negatives must survive it.
  return bytes.map((v, i) => (i % 7 === 0 ? v - 300.25 : v + next()));
}

const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [136, 102],
  [102, 136],
  [37, 251],
  [400, 300],
  [801, 599],
];
const GRIDS: [number, number][] = [
  [224, 224],
  [48, 64],
  [1, 1],
];

describe('resizeToInput stays bit-identical to the plain resampler', () => {
  const next = random(42);
  for (const [width, height] of SIZES) {
    test(`${width}x${height} photos, contain and fill, 3 and 4 channels, every source type`, () => {
      for (const channels of [3, 4]) {
        for (const resize of ['contain', 'fill'] as const) {
          for (const [gridH, gridW] of GRIDS) {
            for (const kind of ['Uint8Array', 'Uint8ClampedArray', 'Buffer', 'number[]'] as const) {
              // The large sizes would take long with every combination; bytes are the hot path.
              if (width * height > 50_000 && (kind !== 'Uint8Array' || gridW !== 224)) continue;
              const spec = defaultPreprocess({ width: gridW, height: gridH, resize, background: [255, Math.floor(next() * 256), 0.5] });
              const src = makeSource(kind, width * height * channels, next);
              const what = `${width}x${height}x${channels} ${kind} -> ${gridW}x${gridH} ${resize}`;
              const expected = referenceResizeRgb(src, width, height, channels, spec);
              assertSameBits(resizePixels(src, width, height, channels, spec), expected, what);
              // Twice: the tap tables and scratch buffer are reused on the second call.
              assertSameBits(resizePixels(src, width, height, channels, spec), expected, `${what} (again)`);
            }
          }
        }
      }
    });
  }

  test('resizeToInput scales onto the range in the same pass, to the bit, and writes only its own slot', () => {
    const next = random(7);
    for (const range of [[0, 1], [-1, 1], [0, 255]] as [number, number][]) {
      for (const [width, height] of [[136, 102], [33, 70]]) {
        for (const resize of ['contain', 'fill'] as const) {
          const spec = defaultPreprocess({ width: 40, height: 30, resize, range });
          const src = makeSource('Uint8Array', width * height * 3, next);
          const expected = scaleToRange(referenceResizeRgb(src, width, height, 3, spec), spec);
          assertSameBits(resizeToInput(src, width, height, 3, spec), expected, `${width}x${height} ${resize} [${range}]`);
          const size = 40 * 30 * 3;
          const batch = new Float32Array(size * 3).fill(-7);
          resizeToInput(src, width, height, 3, spec, batch, size);
          assertSameBits(batch.subarray(size, 2 * size), expected, 'slot 1 of a batch');
          assert.ok(batch.subarray(0, size).every((v) => v === -7) && batch.subarray(2 * size).every((v) => v === -7), 'other slots untouched');
        }
      }
    }
    const spec = defaultPreprocess({ width: 4, height: 4 });
    assert.throws(() => resizeToInput(new Uint8Array(12), 2, 2, 3, spec, new Float32Array(40), 1), RangeError);
  });
});

describe('the predict path gives the same model inputs as imageToInput', () => {
  const spec = defaultPreprocess();

  test('prepareFile (fused resize and scaling) matches imageToInput on real photos', async () => {
    for (const { file } of await firstFiles(path.join(SHOES, 'test'), 2)) {
      const prepared = await prepareFile(file, spec);
      assert.ok('input' in prepared, 'error' in prepared ? prepared.error.message : '');
      assertSameBits(prepared.input, await imageToInput(await readFile(file), file, spec), file);
    }
  });

  test('classifyFiles packs each batch with exactly those inputs, failures left out, in order', async () => {
    const small = defaultPreprocess({ width: 24, height: 16 });
    const modelSpec: ModelSpec = { format: 'footwear/1', labels: ['a', 'b'], preprocess: small, inputName: 'x', outputName: 'y' };
    const size = 24 * 16 * 3;
    const runs: Float32Array[] = [];
    // A fake model: remembers each batch and scores an image by its mean value, so a result
    // handed to the wrong file would show.
    const session: OnnxSession = {
      inputNames: ['x'],
      outputNames: ['y'],
      executionProvider: 'cpu',
      async run(input: Float32Array, dims: readonly number[]): Promise<OnnxOutput> {
        assert.equal(input.length, dims[0] * size);
        runs.push(input.slice());
        const data = new Float32Array(dims[0] * 2);
        for (let i = 0; i < dims[0]; i++) {
          const mean = input.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0) / size;
          data.set([mean, 1 - mean], i * 2);
        }
        return { data, dims: [dims[0], 2] };
      },
      async runOutputs(input: Float32Array, dims: readonly number[]) {
        return { y: await this.run(input, dims) };
      },
      release: async () => {},
    };
    const classifier = new Classifier(session, modelSpec, 'fake.onnx');
    const photos = (await firstFiles(path.join(SHOES, 'test'), 3)).map((f) => f.file);
    const files = [photos[0], '/no/such/photo.jpg', ...photos.slice(1, 5), path.join(SHOES, 'test'), ...photos.slice(5)];
    const expected = new Map<string, Float32Array>();
    for (const file of photos) expected.set(file, await imageToInput(await readFile(file), file, small));
    for (const batchSize of [1, 2, 3, 16]) {
      runs.length = 0;
      const results = [];
      for await (const result of classifier.classifyFiles(files, { batchSize, concurrency: 3 })) results.push(result);
      assert.deepEqual(results.map((r) => r.file), files);
      assert.deepEqual(results.map((r) => 'error' in r), files.map((f) => !expected.has(f)));
      const good = files.filter((f) => expected.has(f));
      assertSameBits(Float32Array.from(runs.flatMap((r) => [...r])), Float32Array.from(good.flatMap((f) => [...(expected.get(f) as Float32Array)])), `batch ${batchSize}`);
      for (const r of results) {
        if (!('error' in r)) {
          const input = expected.get(r.file) as Float32Array;
          const mean = input.reduce((a, b) => a + b, 0) / size;
          assert.equal(r.topK.find((s) => s.label === 'a')?.score, Math.fround(mean), r.file);
        }
      }
    }
  });
});
