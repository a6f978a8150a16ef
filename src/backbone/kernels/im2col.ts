import type { ConvGeometry } from './conv-geometry.ts';

/**
 * Writes the patches of batch items [firstBatch, firstBatch + batches) of x as rows of a matrix
 * at `columnsAt`: one row per output pixel, holding the filterHeight x filterWidth x inChannels
 * input values its filter taps read (zeros where a tap lies on padding), in the filter's own
 * [r, c, in] order, so patches x dy (as matrices) is the filter gradient in its own layout.
 */
export function writeColumns(heap: Float32Array, xAt: number, g: ConvGeometry, firstBatch: number, batches: number, columnsAt: number): void {
  const channels = g.inChannels;
  let at = columnsAt;
  for (let b = firstBatch; b < firstBatch + batches; b++) {
    for (let y = 0; y < g.outHeight; y++) {
      for (let x = 0; x < g.outWidth; x++) {
        for (let r = 0; r < g.filterHeight; r++) {
          const inRow = y * g.strideHeight + r - g.padTop;
          for (let c = 0; c < g.filterWidth; c++, at += channels) {
            const inCol = x * g.strideWidth + c - g.padLeft;
            if (inRow < 0 || inRow >= g.inHeight || inCol < 0 || inCol >= g.inWidth) {
              heap.fill(0, at, at + channels);
              continue;
            }
            const from = xAt + ((b * g.inHeight + inRow) * g.inWidth + inCol) * channels;
            for (let ch = 0; ch < channels; ch++) heap[at + ch] = heap[from + ch];
          }
        }
      }
    }
  }
}
