import type { OnnxSession } from '../../src/core/index.ts';
import type { PreprocessSpec } from '../../src/core/index.ts';
import { packBatch } from './images.ts';
import { measureRow, type BenchContext } from './row.ts';
import type { BenchRow, VariantName } from './types.ts';

/**
 * The model alone: `session.run` on batches packed before the clock starts, one row per batch
 * size, each timing at least `images` images. The ceiling that `predict` is measured against.
 */
export async function rawOrtRows(
  session: OnnxSession,
  inputs: readonly Float32Array[],
  spec: PreprocessSpec,
  batchSizes: readonly number[],
  images: number,
  variant: VariantName,
  context: BenchContext,
  runtime = `onnxruntime-node (${session.executionProvider})`,
  kind: 'raw-ort' | 'ort-web' = 'raw-ort',
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const batchSize of batchSizes) {
    const batch = packBatch(inputs, 0, batchSize);
    const dims = [batchSize, spec.height, spec.width, 3];
    await session.run(batch, dims); // warm-up: ORT plans memory per input shape on first use
    rows.push(await measureRow({ kind, runtime, variant, batchSize }, context, () => runBatches(session, batch, dims, images)));
  }
  markBest(rows);
  return rows;
}

/** Runs one ready batch until at least `images` images have gone through; returns how many did. */
export async function runBatches(session: OnnxSession, batch: Float32Array, dims: readonly number[], images: number): Promise<number> {
  const runs = Math.ceil(images / dims[0]);
  for (let i = 0; i < runs; i++) await session.run(batch, dims);
  return runs * dims[0];
}

/** Flags the fastest row of a sweep. */
export function markBest(rows: BenchRow[]): BenchRow {
  const best = rows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  best.best = true;
  return best;
}
