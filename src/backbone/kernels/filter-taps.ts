import type { ConvGeometry } from './conv-geometry.ts';

/**
 * Calls `visit` for every (output pixel, filter tap) pair whose tap lands inside the input, with
 * the pixels as NHWC pixel indices (multiply by the channel count for a float index) and the tap
 * as r * filterWidth + c. Taps on padding are skipped: they read zeros and their gradients go
 * nowhere.
 */
export function forEachTap(g: ConvGeometry, visit: (inputPixel: number, outputPixel: number, tap: number) => void): void {
  for (let b = 0; b < g.batch; b++) {
    for (let y = 0; y < g.outHeight; y++) {
      for (let r = 0; r < g.filterHeight; r++) {
        const inRow = y * g.strideHeight + r - g.padTop;
        if (inRow < 0 || inRow >= g.inHeight) continue;
        const inRowPixel = (b * g.inHeight + inRow) * g.inWidth;
        const outRowPixel = (b * g.outHeight + y) * g.outWidth;
        for (let x = 0; x < g.outWidth; x++) {
          for (let c = 0; c < g.filterWidth; c++) {
            const inCol = x * g.strideWidth + c - g.padLeft;
            if (inCol < 0 || inCol >= g.inWidth) continue;
            visit(inRowPixel + inCol, outRowPixel + x, r * g.filterWidth + c);
          }
        }
      }
    }
  }
}
