/** A model input as the trainer holds it: HWC float32, values in `range` (the spec's scaling of 0..255). */
export interface InputImage {
  data: Float32Array;
  height: number;
  width: number;
  range: readonly [number, number];
}

/** The value of a pure white pixel in this image's scaling: what letterboxing pads with. */
export function white(image: InputImage): number {
  return image.range[1];
}
