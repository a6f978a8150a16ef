import type { InputImage } from './image.ts';

export interface ColourJitter {
  /** Multiplies intensity about black: 1 keeps it. */
  brightness: number;
  /** Multiplies the distance from the image's mean grey: 1 keeps it. */
  contrast: number;
  /** Multiplies each pixel's distance from its own grey: 0 greys it, 1 keeps it. */
  saturation: number;
}

/**
 * Brightness, contrast and saturation changes, clipped to the scaling's range. Catalogue photos
 * of one model come in several colourways, so a colour change keeps the class.
 */
export function jitterColour(image: InputImage, jitter: ColourJitter): InputImage {
  const { data, range } = image;
  const [lo, hi] = range;
  const span = hi - lo;
  const out = new Float32Array(data.length);
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean = (mean / data.length - lo) / span;
  for (let i = 0; i < data.length; i += 3) {
    const grey = (0.299 * (data[i] - lo) + 0.587 * (data[i + 1] - lo) + 0.114 * (data[i + 2] - lo)) / span;
    for (let c = 0; c < 3; c++) {
      let v = grey + ((data[i + c] - lo) / span - grey) * jitter.saturation;
      v = mean + (v - mean) * jitter.contrast;
      v *= jitter.brightness;
      out[i + c] = lo + Math.min(1, Math.max(0, v)) * span;
    }
  }
  return { ...image, data: out };
}
