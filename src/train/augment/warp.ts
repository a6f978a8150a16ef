import { white, type InputImage } from './image.ts';

/** Where an output pixel samples the source: a zoom about a centre, a rotation, a mirror. */
export interface Warp {
  /** Output size / source size; > 1 zooms in (a crop), < 1 zooms out (more margin). */
  scale: number;
  /** Radians, counter-clockwise. */
  angle: number;
  /** Source point (in pixels) that lands in the output's centre. */
  centreX: number;
  centreY: number;
  mirror: boolean;
}

/**
 * Resamples `image` through `warp` with bilinear interpolation; what falls outside the source is
 * white, as letterboxing pads, so a zoomed-out or rotated view still looks like a catalogue photo.
 * One inverse mapping does crop, scale and rotation at once: no intermediate image, one blur.
 */
export function warpImage(image: InputImage, warp: Warp): InputImage {
  const { data, height, width } = image;
  const out = new Float32Array(data.length);
  const fill = white(image);
  const cos = Math.cos(warp.angle) / warp.scale;
  const sin = Math.sin(warp.angle) / warp.scale;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const at = (xx: number, yy: number, c: number) => (xx < 0 || yy < 0 || xx >= width || yy >= height ? fill : data[(yy * width + xx) * 3 + c]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (warp.mirror ? width - 1 - x : x) - cx;
      const dy = y - cy;
      const sx = warp.centreX + cos * dx - sin * dy;
      const sy = warp.centreY + sin * dx + cos * dy;
      const o = (y * width + x) * 3;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx;
        const bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx;
        out[o + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { ...image, data: out };
}
