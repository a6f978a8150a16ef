import { resizeToInput, type PreprocessSpec } from '../../src/core/index.ts';

/**
 * The model grid in plain 0..255 pixel values: the one resize entry point with the identity
 * range (scale exactly 1, shift 0), for tests that compare pixels rather than model inputs.
 */
export function resizePixels(src: ArrayLike<number>, width: number, height: number, channels: number, spec: PreprocessSpec): Float32Array {
  return resizeToInput(src, width, height, channels, { ...spec, range: [0, 255] });
}

/** Pixels 0..255 mapped onto the spec's range the plain way, as a reference for the fused pass. */
export function scaleToRange(pixels: Float32Array, spec: PreprocessSpec): Float32Array {
  const [min, max] = spec.range;
  const k = (max - min) / 255;
  return pixels.map((p) => p * k + min);
}
