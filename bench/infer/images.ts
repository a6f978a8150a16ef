import { readFile } from 'node:fs/promises';
import { DatasetError, walkImages } from '../../src/data/index.ts';
import { imageToInput } from '../../src/node/index.ts';
import type { PreprocessSpec } from '../../src/core/index.ts';

/**
 * `count` image files below `dir`, spread evenly over its sorted listing so that a folder per
 * class contributes every class (the first N files would all be Boot). The same files on every run.
 */
export async function pickImages(dir: string, count: number): Promise<string[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`images should be a positive integer, got ${count}`);
  const problems: string[] = [];
  const all = await walkImages(dir, (file, reason) => problems.push(`${file}: ${reason}`));
  if (all.length === 0) {
    throw new DatasetError(`${dir}: no image files found${problems.length ? ` (${problems[0]})` : ''}; pass --data a folder of photos`);
  }
  if (all.length <= count) return all;
  return Array.from({ length: count }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / count)]);
}

/**
 * Preprocessed inputs of the first `count` files (cycling when there are fewer), for runs that
 * time the model alone. Real photos rather than zeros, so a quantised model sees real ranges;
 * only a batch's worth is kept because the model's speed does not depend on which photo it gets.
 */
export async function inputTensors(files: readonly string[], count: number, spec: PreprocessSpec): Promise<Float32Array[]> {
  const distinct = files.slice(0, Math.min(count, files.length));
  const inputs = await Promise.all(distinct.map(async (file) => imageToInput(await readFile(file), file, spec)));
  return Array.from({ length: count }, (_, i) => inputs[i % inputs.length]);
}

/** Packs inputs [from, from + size) (cycling) into one batch buffer. */
export function packBatch(inputs: readonly Float32Array[], from: number, size: number, out?: Float32Array): Float32Array {
  const length = inputs[0].length;
  const batch = out ?? new Float32Array(size * length);
  for (let i = 0; i < size; i++) batch.set(inputs[(from + i) % inputs.length], i * length);
  return batch;
}
