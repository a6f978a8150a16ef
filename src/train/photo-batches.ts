import { isFailure, type PreprocessSpec } from '../core/index.ts';
import type { Sample } from '../data/index.ts';
import { prepareFile } from '../node/index.ts';

export interface PhotoBatch {
  /** The readable photos' model inputs, end to end, ready for one ONNX Runtime run. */
  inputs: Float32Array;
  /** The samples behind `inputs`, in order. */
  samples: Sample[];
  /** Photos of this batch that could not be read or decoded. */
  failures: { file: string; reason: string }[];
  /** Samples handled so far, this batch included (for progress). */
  done: number;
}

/**
 * The training photos in batches, read and preprocessed exactly as `footwear predict` does (so
 * training sees what inference sees), the next batch decoding while the caller runs this one.
 */
export async function* photoBatches(samples: readonly Sample[], spec: PreprocessSpec, batchSize: number): AsyncGenerator<PhotoBatch> {
  const pixels = spec.height * spec.width * 3;
  const decode = (start: number) => Promise.all(samples.slice(start, start + batchSize).map((s) => prepareFile(s.file, spec)));
  let pending = decode(0);
  for (let start = 0; start < samples.length; start += batchSize) {
    const decoded = await pending;
    if (start + batchSize < samples.length) pending = decode(start + batchSize);
    const good: Float32Array[] = [];
    const batch: PhotoBatch = { inputs: new Float32Array(0), samples: [], failures: [], done: Math.min(start + batchSize, samples.length) };
    decoded.forEach((d, i) => {
      if (isFailure(d)) batch.failures.push({ file: d.file, reason: d.error.message });
      else {
        good.push(d.input);
        batch.samples.push(samples[start + i]);
      }
    });
    batch.inputs = new Float32Array(good.length * pixels);
    good.forEach((x, i) => batch.inputs.set(x, i * pixels));
    yield batch;
  }
}
