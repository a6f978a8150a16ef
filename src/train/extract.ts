import type { Sample } from '../data/index.ts';
import type { OnnxSession } from '../core/index.ts';
import { augmentBatch } from './augment/index.ts';
import { photoBatches } from './photo-batches.ts';
import type { PreprocessSpec } from '../core/index.ts';

export interface FeatureSet {
  /** Row-major [n, dim]. */
  features: Float32Array;
  labels: Int32Array;
  dim: number;
  files: string[];
}

export interface ExtractResult {
  views: FeatureSet[];
  failures: { file: string; reason: string }[];
}

/** How many views of each photo to extract, and the seed their random recipes are drawn with. */
export interface ViewOptions {
  /** 1: the photo only; 2: and its mirror; more: random crops, rotations, colours, backgrounds (see augment/). */
  views: number;
  seed: number;
}

/**
 * Runs the frozen backbone once per image and view (see augment/views.ts) through ONNX Runtime.
 * Decoding the next batch overlaps with inference on the current one. Unreadable images are
 * skipped and reported, never fatal here; the caller decides how many are too many.
 */
export async function extractFeatures(
  session: OnnxSession,
  samples: Sample[],
  spec: PreprocessSpec,
  options: ViewOptions & { batchSize?: number; progress?: (done: number, total: number) => void },
): Promise<ExtractResult> {
  const batchSize = options.batchSize ?? 32;
  const viewCount = options.views;
  const rows: Float32Array[][] = Array.from({ length: viewCount }, () => []);
  const kept: Sample[] = [];
  const failures: ExtractResult['failures'] = [];
  let dim = 0;
  for await (const batch of photoBatches(samples, spec, batchSize)) {
    failures.push(...batch.failures);
    kept.push(...batch.samples);
    const count = batch.samples.length;
    if (count > 0) {
      for (let view = 0; view < viewCount; view++) {
        const input = view === 0 ? batch.inputs : augmentBatch(batch.inputs, batch.samples, spec, view, options.seed);
        const out = await session.run(input, [count, spec.height, spec.width, 3]);
        dim = out.data.length / count;
        for (let i = 0; i < count; i++) rows[view].push(out.data.slice(i * dim, (i + 1) * dim));
      }
    }
    options.progress?.(batch.done, samples.length);
  }
  const labels = Int32Array.from(kept, (s) => s.label);
  const files = kept.map((s) => s.file);
  const views = rows.map((list) => {
    const features = new Float32Array(list.length * dim);
    list.forEach((row, i) => features.set(row, i * dim));
    return { features, labels, dim, files };
  });
  return { views, failures };
}
