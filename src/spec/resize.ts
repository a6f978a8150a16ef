import type { PreprocessSpec } from './index.ts';

// Resampling is ours rather than sharp's or the canvas's so that Node and the browser produce the
// same input tensor to the last bit for the same decoded pixels: the two libraries' resize
// kernels differ, and that difference moves class scores by more than our parity budget.
// The filter is a triangle (bilinear) widened by the scale factor when shrinking, as Pillow does,
// so downscaling large photos averages instead of aliasing.

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

function computeTaps(inSize: number, outSize: number): Taps {
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

/** Resizes packed 8-bit pixels (3 or 4 channels; a 4th is ignored) to RGB floats in 0..255. */
function resample(src: ArrayLike<number>, width: number, height: number, channels: number, outW: number, outH: number): Float32Array {
  const h = computeTaps(width, outW);
  const v = computeTaps(height, outH);
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

/**
 * Maps decoded pixels onto the model's input grid as the spec says ('contain' letterboxes on the
 * background colour, 'fill' stretches). Returns RGB floats in 0..255, row-major HWC.
 */
export function resizeRgb(src: ArrayLike<number>, width: number, height: number, channels: number, spec: PreprocessSpec): Float32Array {
  if (spec.resize === 'fill') return resample(src, width, height, channels, spec.width, spec.height);
  const scale = Math.min(spec.width / width, spec.height / height);
  const innerW = Math.max(1, Math.min(spec.width, Math.round(width * scale)));
  const innerH = Math.max(1, Math.min(spec.height, Math.round(height * scale)));
  const inner = resample(src, width, height, channels, innerW, innerH);
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
