import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { defaultPreprocess, type PreprocessSpec } from '../src/core/index.ts';
import { resizePixels } from './support/pixels.ts';
import { resizeToInput } from '../src/core/index.ts';
import { resampleModule } from '../src/core/wasm/passes.ts';
import { setWasmResampling, wasmResampleRuns } from '../src/core/wasm/resample.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';

// The wasm resampler must give the JS resampler's bits, every one: Node and browsers may run
// either (a browser without SIMD falls back to JS), and the JS passes are the ones held against
// the plain reference in resize-perf.test.ts.

after(() => setWasmResampling(true));

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function bytes(length: number, next: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() * 256;
  return out;
}

function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: value ${i} is ${actual[i]} from wasm, ${expected[i]} from JS`);
  }
}

/**
 * resizeToInput through both paths into two copies of a buffer of stale values, at `offset`:
 * everything must match, the slot and the untouched values around it alike.
 */
function compare(src: Uint8Array, width: number, height: number, channels: number, spec: PreprocessSpec, offset: number, what: string): void {
  const size = spec.width * spec.height * 3;
  const js = new Float32Array(offset + size + 5);
  for (let i = 0; i < js.length; i++) js[i] = (i % 11) - 3.25;
  const wasm = js.slice();
  setWasmResampling(false);
  const before = wasmResampleRuns();
  resizeToInput(src, width, height, channels, spec, js, offset);
  assert.equal(wasmResampleRuns(), before, `${what}: the JS comparison ran wasm`);
  setWasmResampling(true);
  resizeToInput(src, width, height, channels, spec, wasm, offset);
  assert.equal(wasmResampleRuns(), before + 1, `${what}: the wasm path did not run`);
  assertSameBits(wasm, js, what);
}

const RANGES: [number, number][] = [[0, 1], [-1, 1], [0, 255]];

describe('the wasm resampler gives the JS resampler\'s bits', () => {
  test('the module is small enough for a synchronous compile on a browser main thread', () => {
    const size = resampleModule().length;
    assert.ok(size < 4096, `${size} bytes`);
    assert.ok(WebAssembly.validate(resampleModule()), 'this Node has wasm SIMD, so the tests below exercise it');
  });

  const SIZES: [number, number][] = [
    [1, 1],
    [1, 500],
    [500, 1],
    [2, 3],
    [3, 2],
    [136, 102],
    [102, 136],
    [37, 251],
    [333, 111],
    [640, 480],
    [801, 599],
  ];
  const GRIDS = [
    { width: 224, height: 224, resize: 'contain' },
    { width: 224, height: 224, resize: 'fill' },
    { width: 160, height: 96, resize: 'contain' },
    { width: 61, height: 130, resize: 'fill' },
  ] as const;

  for (const [width, height] of SIZES) {
    test(`${width}x${height}, 3 and 4 channels, every grid and range, at an offset`, () => {
      const next = random(width * 7919 + height);
      for (const channels of [3, 4]) {
        const src = bytes(width * height * channels, next);
        for (const grid of GRIDS) {
          for (const range of RANGES) {
            const spec = defaultPreprocess({ ...grid, range, background: [255, Math.floor(next() * 256), 0.5] });
            const offset = 1 + Math.floor(next() * 1000);
            compare(src, width, height, channels, spec, offset, `${width}x${height}x${channels} -> ${grid.width}x${grid.height} ${grid.resize} [${range}] at ${offset}`);
          }
        }
      }
    });
  }

  test('3000x2000 downscales (wide taps, sources copied in bands)', () => {
    const next = random(3000);
    for (const channels of [3, 4]) {
      const src = bytes(3000 * 2000 * channels, next);
      compare(src, 3000, 2000, channels, defaultPreprocess({ range: [-1, 1] }), 3 * 224 * 224, `3000x2000x${channels} contain`);
      compare(src, 3000, 2000, channels, defaultPreprocess({ resize: 'fill', width: 96, height: 160 }), 17, `3000x2000x${channels} fill 96x160`);
    }
  });

  test('memory grows and is reused across sizes, small after large included', () => {
    const next = random(99);
    const spec = defaultPreprocess();
    for (const [width, height] of [[40, 30], [1200, 900], [40, 30], [4000, 3000], [136, 102], [5000, 40], [136, 102]]) {
      compare(bytes(width * height * 3, next), width, height, 3, spec, 0, `${width}x${height} in sequence`);
    }
  });

  test('the identity range (no scaling) and every byte source type take the wasm path', () => {
    const next = random(5);
    const spec = defaultPreprocess({ width: 48, height: 64 });
    const raw = bytes(136 * 102 * 3, next);
    const sources = [raw, new Uint8ClampedArray(raw.buffer), Buffer.concat([Buffer.alloc(3), Buffer.from(raw)]).subarray(3)];
    setWasmResampling(false);
    const expected = resizePixels(raw, 136, 102, 3, spec);
    setWasmResampling(true);
    for (const src of sources) {
      const before = wasmResampleRuns();
      assertSameBits(resizePixels(src, 136, 102, 3, spec), expected, src.constructor.name);
      assert.equal(wasmResampleRuns(), before + 1, `${src.constructor.name} went to JS`);
    }
  });

  test('sources the wasm path does not take stay on JS', () => {
    const spec = defaultPreprocess({ width: 8, height: 8 });
    const before = wasmResampleRuns();
    resizePixels(Array.from({ length: 4 * 4 * 3 }, (_, i) => i), 4, 4, 3, spec);
    resizePixels(new Float32Array(4 * 4 * 3), 4, 4, 3, spec);
    resizePixels(new Uint8Array(4 * 4 * 5), 4, 4, 5, spec);
    assert.equal(wasmResampleRuns(), before);
  });

  test('without WebAssembly (node --jitless) the JS passes run, silently, with the same bits', () => {
    // Both sides hash the same 136x102 image's model input; the child has no WebAssembly at all.
    const script = `
      import { defaultPreprocess, resizeToInput } from './src/core/index.ts';
      import { wasmResampleRuns } from './src/core/wasm/resample.ts';
      const src = new Uint8Array(136 * 102 * 3).map((_, i) => (i * 7919) >> 3);
      const bits = new Uint32Array(resizeToInput(src, 136, 102, 3, defaultPreprocess({ range: [-1, 1] })).buffer);
      let hash = 0;
      for (const b of bits) hash = (Math.imul(hash, 31) + b) >>> 0;
      console.log(JSON.stringify({ wasm: typeof WebAssembly, runs: wasmResampleRuns(), hash }));`;
    const root = path.resolve(import.meta.dirname, '..');
    const output = execFileSync(process.execPath, ['--jitless', '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const child = JSON.parse(output.trim().split('\n').at(-1) as string) as { wasm: string; runs: number; hash: number };
    assert.deepEqual({ wasm: child.wasm, runs: child.runs }, { wasm: 'undefined', runs: 0 });
    const src = new Uint8Array(136 * 102 * 3).map((_, i) => (i * 7919) >> 3);
    const before = wasmResampleRuns();
    const bits = new Uint32Array(resizeToInput(src, 136, 102, 3, defaultPreprocess({ range: [-1, 1] })).buffer);
    assert.equal(wasmResampleRuns(), before + 1);
    let hash = 0;
    for (const b of bits) hash = (Math.imul(hash, 31) + b) >>> 0;
    assert.equal(child.hash, hash);
  });

  test('real photos decoded by sharp, RGB and RGBA', async () => {
    for (const { file } of await firstFiles(path.join(SHOES, 'test'), 2)) {
      for (const alpha of [false, true]) {
        const image = sharp(file);
        const { data, info } = await (alpha ? image.ensureAlpha() : image).raw().toBuffer({ resolveWithObject: true });
        for (const resize of ['contain', 'fill'] as const) {
          for (const range of RANGES) {
            const spec = defaultPreprocess({ resize, range });
            compare(data, info.width, info.height, info.channels, spec, 0, `${path.basename(file)} ${info.channels} channels ${resize} [${range}]`);
          }
        }
      }
    }
  });
});
