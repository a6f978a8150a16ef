import type { InputImage } from './image.ts';

/** How close to white (as a fraction of the range) a pixel must be to count as studio background. */
const NEAR_WHITE = 0.94;

/**
 * The studio background: near-white pixels connected to the border. A white shoe's own highlights
 * are mostly enclosed by its outline, so a flood fill from the edges leaves them alone where a
 * plain threshold would not.
 */
export function backgroundMask(image: InputImage): Uint8Array {
  const { data, height, width, range } = image;
  const [lo, hi] = range;
  const threshold = lo + NEAR_WHITE * (hi - lo);
  const light = (p: number) => data[p * 3] >= threshold && data[p * 3 + 1] >= threshold && data[p * 3 + 2] >= threshold;
  const mask = new Uint8Array(height * width);
  const stack: number[] = [];
  const push = (p: number) => {
    if (!mask[p] && light(p)) {
      mask[p] = 1;
      stack.push(p);
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (stack.length > 0) {
    const p = stack.pop() as number;
    const x = p % width;
    if (x > 0) push(p - 1);
    if (x < width - 1) push(p + 1);
    if (p >= width) push(p - width);
    if (p < (height - 1) * width) push(p + width);
  }
  return mask;
}

/** A background to paint behind the shoe: two colours blended along a direction, plus grain. */
export interface Backdrop {
  from: [number, number, number];
  to: [number, number, number];
  /** Direction of the blend, radians. */
  angle: number;
  /** Amplitude of per-pixel noise, as a fraction of the range. */
  grain: number;
  random: () => number;
}

/**
 * Replaces the studio background with `backdrop`, so the classifier cannot lean on "white all
 * round" and photos taken elsewhere (a floor, a shelf, a hand) look less foreign to it.
 */
export function replaceBackground(image: InputImage, backdrop: Backdrop): InputImage {
  const { data, height, width, range } = image;
  const [lo, hi] = range;
  const mask = backgroundMask(image);
  const out = Float32Array.from(data);
  const dx = Math.cos(backdrop.angle);
  const dy = Math.sin(backdrop.angle);
  const extent = Math.abs(dx) * width + Math.abs(dy) * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!mask[p]) continue;
      const t = Math.min(1, Math.max(0, ((x - width / 2) * dx + (y - height / 2) * dy) / extent + 0.5));
      const noise = (backdrop.random() - 0.5) * 2 * backdrop.grain;
      for (let c = 0; c < 3; c++) {
        const v = backdrop.from[c] * (1 - t) + backdrop.to[c] * t + noise;
        out[p * 3 + c] = lo + Math.min(1, Math.max(0, v)) * (hi - lo);
      }
    }
  }
  return { ...image, data: out };
}
