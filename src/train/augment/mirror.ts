import type { InputImage } from './image.ts';

/** Mirrors an HWC image left to right: shoes face either way in catalogues. */
export function mirror(image: InputImage): InputImage {
  const { data, height, width } = image;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = (y * width + (width - 1 - x)) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return { ...image, data: out };
}
