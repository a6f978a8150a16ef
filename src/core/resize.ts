import type { PreprocessSpec } from './spec.ts';
import { resampleBytes } from './wasm/resample.ts';

// Resampling is ours rather than sharp's or the canvas's so that Node and the browser produce the
// same input tensor to the last bit for the same decoded pixels: the two libraries' resize
// kernels differ, and that difference moves class scores by more than our parity budget.
// The filter is a triangle (bilinear) widened by the scale factor when shrinking, as Pillow does,
// so downscaling large photos averages instead of aliasing.
//
// Speed without changing a bit (test/resize-perf.test.ts checks against the plain version): the
// arithmetic below is the plain version's, operation for operation and in the same order (each
// horizontal tap summed in a double and rounded to float32 once per pixel; each vertical tap added
// to a float32 value, so rounded after every tap). What changed is how the loops reach memory:
// one monomorphic typed-array source, tap tables cached per size pair with pixel offsets
// precomputed, one reused scratch buffer, and 'contain' writing straight into the letterboxed
// output. resizeToInput also applies the spec's range as it stores, saving toInputTensor's pass.
//
// Byte sources of 3 or 4 channels go to the same two passes in WebAssembly SIMD (wasm/), three to
// four times faster (bench/resize.ts) with the same bits, since these operations round alike in
// wasm and JS (test/resize-wasm.test.ts). The JS passes below stay as the definition, the fallback
// where wasm or SIMD is missing, and the path for other sources.

interface Taps {
  /** First input index of each output, already multiplied by the pixel stride of the pass. */
  offset: Int32Array;
  count: Int32Array;
  /** float32 weights widened to doubles (exact), so the hot loops load doubles directly. */
  weights: Float64Array;
  stride: number;
}

/**
 * The filter taps of each output position. With `trim`, taps of weight 0 at either end are left
 * out: for byte sources every partial sum is finite and >= 0, so adding value * 0 = +0 never
 * changed a bit, and upscaling (the shared 136x102 photos) has one such tap in three.
 */
function computeTaps(inSize: number, outSize: number, pixelStride: number, trim: boolean): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const offset = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  // The plain version kept float32 weights; normalising and rounding here keeps exactly its values.
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let total = 0;
    const n = Math.min(hi - lo, stride);
    const row = i * stride;
    for (let j = 0; j < n; j++) {
      const w = Math.max(0, 1 - Math.abs((lo + j + 0.5 - center) / filterScale));
      weights[row + j] = w;
      total += w;
    }
    for (let j = 0; j < n; j++) weights[row + j] /= total || 1;
    let first = 0;
    let last = n;
    if (trim) {
      while (first < last && weights[row + first] === 0) first++;
      while (last > first && weights[row + last - 1] === 0) last--;
      weights.copyWithin(row, row + first, row + last);
    }
    offset[i] = (lo + first) * pixelStride;
    count[i] = last - first;
  }
  return { offset, count, weights: Float64Array.from(weights), stride };
}

// A folder of photos is mostly a handful of sizes, so tap tables are reused rather than rebuilt
// per image. Small and cleared when full: a folder of all-different sizes just recomputes.
const tapCache = new Map<string, Taps>();
const TAP_CACHE_LIMIT = 64;

function taps(inSize: number, outSize: number, pixelStride: number, trim: boolean): Taps {
  const key = `${inSize}:${outSize}:${pixelStride}:${trim}`;
  let found = tapCache.get(key);
  if (!found) {
    if (tapCache.size >= TAP_CACHE_LIMIT) tapCache.clear();
    found = computeTaps(inSize, outSize, pixelStride, trim);
    tapCache.set(key, found);
  }
  return found;
}

/**
 * The source as one of two array types, so the horizontal loop sees at most two shapes and V8
 * keeps it fast: bytes (Uint8Array, Buffer and Uint8ClampedArray all viewed as a plain
 * Uint8Array, no copy) or, for any other array-like, an exact Float64Array copy of its numbers.
 */
function sourceArray(src: ArrayLike<number>): Uint8Array | Float64Array {
  if (src instanceof Uint8Array || src instanceof Uint8ClampedArray) return new Uint8Array(src.buffer, src.byteOffset, src.length);
  return Float64Array.from(src);
}

/** Horizontal pass: every input row resampled to outW RGB floats. */
// The horizontal pass's output lives only until the vertical pass has read it, and resizing is
// synchronous, so one buffer serves every call; photos needing more than this get their own.
const SCRATCH_LIMIT = 1 << 20;
let scratch = new Float32Array(0);

function rowsBuffer(length: number): Float32Array {
  if (length > SCRATCH_LIMIT) return new Float32Array(length);
  if (scratch.length < length) scratch = new Float32Array(Math.max(length, Math.min(SCRATCH_LIMIT, scratch.length * 2)));
  return scratch;
}

function horizontal(src: Uint8Array | Float64Array, width: number, height: number, channels: number, h: Taps, outW: number): Float32Array {
  // Every value read later is written here first, so stale contents from a previous call are harmless.
  const rows = rowsBuffer(height * outW * 3);
  const { offset, count, weights, stride } = h;
  const rowLength = width * channels;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const rowIn = y * rowLength;
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let p = rowIn + offset[x];
      let t = x * stride;
      const end = t + count[x];
      for (; t < end; t++, p += channels) {
        const w = weights[t];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
      o += 3;
    }
  }
  return rows;
}

/**
 * Vertical pass into `out`, output row y starting at `at + y * outStride`. The plain version
 * added each tap to a float32 output (`out[i] += ...`, from 0); summing in a local rounded with
 * Math.fround after every tap is the same arithmetic with one store per value instead of one per
 * tap. Each stored value is then `sum * scale + shift` rounded to float32, toInputTensor's formula
 * (scale 1, shift 0 leaves every value as it was).
 */
function vertical(rows: Float32Array, v: Taps, rowLength: number, outH: number, out: Float32Array, at: number, outStride: number, scale: number, shift: number): void {
  const { offset, count, weights, stride } = v;
  for (let y = 0; y < outH; y++) {
    const rowOut = at + y * outStride;
    const first = y * stride;
    const n = count[y];
    const rowIn = offset[y];
    if (n === 2) {
      // Upscaling's common case, unrolled.
      const w0 = weights[first];
      const w1 = weights[first + 1];
      for (let i = 0, j = rowIn; i < rowLength; i++, j++) {
        out[rowOut + i] = Math.fround(Math.fround(0 + rows[j] * w0) + rows[j + rowLength] * w1) * scale + shift;
      }
      continue;
    }
    for (let i = 0; i < rowLength; i++) {
      let sum = 0;
      for (let k = 0, j = rowIn + i; k < n; k++, j += rowLength) sum = Math.fround(sum + rows[j] * weights[first + k]);
      out[rowOut + i] = sum * scale + shift;
    }
  }
}

/** Resamples into `out` (row y of the result at `at + y * outStride`), scaling as `vertical` says. */
function resampleInto(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
  out: Float32Array,
  at: number,
  outStride: number,
  scale: number,
  shift: number,
): void {
  const pixels = sourceArray(src);
  const trim = pixels instanceof Uint8Array;
  const h = taps(width, outW, channels, trim);
  const v = taps(height, outH, outW * 3, trim);
  if (trim && resampleBytes(pixels, width, height, channels, h, v, outW, outH, out, at, outStride, scale, shift)) return;
  const rows = horizontal(pixels, width, height, channels, h, outW);
  vertical(rows, v, outW * 3, outH, out, at, outStride, scale, shift);
}

/** Sets pixels [from, to) of `out` (RGB floats) to `rgb`. */
function fillRgb(out: Float32Array, from: number, to: number, [r, g, b]: readonly number[]): void {
  for (let i = from * 3; i < to * 3; i += 3) {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
}

/** Resizes onto the model grid per the spec into `out` at `offset`, storing `value * scale + shift`. */
function resizeInto(src: ArrayLike<number>, width: number, height: number, channels: number, spec: PreprocessSpec, out: Float32Array, offset: number, scale: number, shift: number): Float32Array {
  const size = spec.width * spec.height * 3;
  if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
    throw new RangeError(`output of ${out.length} values has no room for ${size} at offset ${offset}`);
  }
  const rowLength = spec.width * 3;
  if (spec.resize === 'fill') {
    resampleInto(src, width, height, channels, spec.width, spec.height, out, offset, rowLength, scale, shift);
    return out;
  }
  const fit = Math.min(spec.width / width, spec.height / height);
  const innerW = Math.max(1, Math.min(spec.width, Math.round(width * fit)));
  const innerH = Math.max(1, Math.min(spec.height, Math.round(height * fit)));
  const left = Math.floor((spec.width - innerW) / 2);
  const top = Math.floor((spec.height - innerH) / 2);
  // Background only where the photo does not go: above, below, and either side of each row. It is
  // scaled as a float32 pixel value would be.
  const bg = spec.background.map((c) => Math.fround(c) * scale + shift);
  const image = out.subarray(offset, offset + size);
  fillRgb(image, 0, top * spec.width + left, bg);
  for (let y = 0; y < innerH - 1; y++) fillRgb(image, (top + y) * spec.width + left + innerW, (top + y + 1) * spec.width + left, bg);
  fillRgb(image, (top + innerH - 1) * spec.width + left + innerW, spec.width * spec.height, bg);
  resampleInto(src, width, height, channels, innerW, innerH, out, offset + (top * spec.width + left) * 3, rowLength, scale, shift);
  return out;
}

/**
 * The one preprocessing entry point, shared by training, Node inference, the server and the
 * browser: maps decoded pixels onto the model's input grid as the spec says ('contain' letterboxes
 * on the background colour, 'fill' stretches) and scales 0..255 onto the spec's range, in one
 * pass, writing row-major HWC floats into `out` at `offset` (a batch buffer, say).
 */
export function resizeToInput(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  spec: PreprocessSpec,
  out: Float32Array = new Float32Array(spec.width * spec.height * 3),
  offset = 0,
): Float32Array {
  const [min, max] = spec.range;
  return resizeInto(src, width, height, channels, spec, out, offset, (max - min) / 255, min);
}
