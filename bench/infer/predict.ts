import { DatasetError } from '../../src/data/index.ts';
import { isFailure } from '../../src/core/index.ts';
import { type Classifier } from '../../src/node/index.ts';
import { measureRow, round, type BenchContext } from './row.ts';
import { quantile } from './stats.ts';
import type { BenchRow, LatencySummary, VariantName } from './types.ts';

/**
 * Consumes classifyFiles as `footwear predict` does. A photo that fails costs less than one that
 * is classified and would flatter the rate, so the bench stops and names it instead.
 */
export async function classifyAll(classifier: Classifier, files: readonly string[], batchSize: number): Promise<number> {
  let count = 0;
  for await (const result of classifier.classifyFiles(files, { batchSize })) {
    if (isFailure(result)) throw new DatasetError(`${result.file}: ${result.error.message}; the bench needs photos that decode (remove it or pick another --data folder)`);
    count++;
  }
  return count;
}

/**
 * One file per classifyFiles call, batch 1: what a single photo costs from file to top-k.
 * Returns the row (its rate is the sequential batch-1 rate) and the latency quantiles.
 */
export async function latencyRow(
  classifier: Classifier,
  files: readonly string[],
  variant: VariantName,
  context: BenchContext,
): Promise<{ row: BenchRow; latency: LatencySummary }> {
  await classifyAll(classifier, files.slice(0, 2), 1);
  const times: number[] = [];
  const runtime = `footwear predict, onnxruntime-node (${classifier.executionProvider})`;
  const row = await measureRow({ kind: 'predict-latency', runtime, variant, batchSize: 1 }, context, async () => {
    for (const file of files) {
      const start = performance.now();
      await classifyAll(classifier, [file], 1);
      times.push(performance.now() - start);
    }
    return files.length;
  });
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    row,
    latency: { images: times.length, p50Ms: round(quantile(times, 0.5), 2), p99Ms: round(quantile(times, 0.99), 2), meanMs: round(mean, 2) },
  };
}
