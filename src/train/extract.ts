import type { Sample } from '../data/index.ts';
import type { OnnxSession } from '../core/index.ts';
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

/** Mirrors an HWC image left to right: shoes face either way in catalogues. */
export function flipHorizontal(input: Float32Array, height: number, width: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = (y * width + (width - 1 - x)) * 3;
      out[to] = input[from];
      out[to + 1] = input[from + 1];
      out[to + 2] = input[from + 2];
    }
  }
  return out;
}

/**
 * Runs the frozen backbone once per image (and once per flipped copy when `flip`) through ONNX
 * Runtime. Decoding the next batch overlaps with inference on the current one. Unreadable images
 * are skipped and reported, never fatal here; the caller decides how many are too many.
 */
export async function extractFeatures(
  session: OnnxSession,
  samples: Sample[],
  spec: PreprocessSpec,
  options: { flip: boolean; batchSize?: number; progress?: (done: number, total: number) => void },
): Promise<ExtractResult> {
  const batchSize = options.batchSize ?? 32;
  const pixels = spec.height * spec.width * 3;
  const viewCount = options.flip ? 2 : 1;
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
        const input = view === 0 ? batch.inputs : flipEach(batch.inputs, count, spec, pixels);
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

/** Each of `count` images laid end to end in `inputs`, mirrored. */
function flipEach(inputs: Float32Array, count: number, spec: PreprocessSpec, pixels: number): Float32Array {
  const out = new Float32Array(inputs.length);
  for (let i = 0; i < count; i++) out.set(flipHorizontal(inputs.subarray(i * pixels, (i + 1) * pixels), spec.height, spec.width), i * pixels);
  return out;
}
