import type { PreprocessSpec } from './index.ts';

/**
 * Scales 0..255 RGB floats onto the spec's range, writing into `out` at `offset` so a batch
 * buffer can be filled image by image without copies.
 */
export function toInputTensor(pixels: Float32Array, spec: PreprocessSpec, out = new Float32Array(pixels.length), offset = 0): Float32Array {
  const [min, max] = spec.range;
  const k = (max - min) / 255;
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i] * k + min;
  return out;
}
