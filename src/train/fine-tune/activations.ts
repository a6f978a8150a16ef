import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OnnxSession, PreprocessSpec } from '../../core/index.ts';
import type { Sample } from '../../data/index.ts';
import { writeJsonAtomic } from '../../node/index.ts';
import { photoBatches } from '../photo-batches.ts';
import { augmentBatch } from '../augment/index.ts';
import type { FeatureSet, ViewOptions } from '../extract.ts';
import { decodeHalf, encodeHalf } from './fp16.ts';

// The activation cache: what the frozen part (see split.ts, buildFrozenModel) gives for each
// photo, written once so that an epoch costs only the trainable blocks. Per set (train, val):
//   <name>.act.f16  the cut activations, float16 (see fp16.ts for why), one fixed-size record a photo;
//   <name>.feat.f32 the pooled features of every feature layer, float32, for the head's warm-up;
//   index.json      the key of the run that wrote them, sizes, files and labels (written last).
// Reading takes one batch of records at a time from disk, so memory stays bounded by the batch
// (at 224 from block_13 the train set's activations are 370 MB on disk for 9,823 photos).

export const ACTIVATION_FORMAT = 'fp16';

interface CacheIndex {
  key: string;
  format: typeof ACTIVATION_FORMAT;
  activationSize: number;
  featureDim: number;
  sets: { name: string; n: number; files: string[]; labels: number[] }[];
}

/** One cached set: pooled features in memory, cut activations read from disk a batch at a time. */
export class ActivationSet {
  constructor(
    private readonly file: string,
    readonly activationSize: number,
    readonly features: FeatureSet,
  ) {}

  get size(): number {
    return this.features.labels.length;
  }

  /**
   * The cut activations of photos `indices` (in that order), row-major [indices.length,
   * activationSize]. The file is opened for each batch (one open per ~250 ms step costs nothing
   * measurable), so no handle outlives a run that stops half-way.
   */
  async read(indices: readonly number[]): Promise<Float32Array> {
    const recordBytes = this.activationSize * 2;
    const bytes = Buffer.allocUnsafeSlow(indices.length * recordBytes);
    const handle = await open(this.file, 'r');
    try {
      await Promise.all(indices.map((index, i) => handle.read(bytes, i * recordBytes, recordBytes, index * recordBytes)));
    } finally {
      await handle.close();
    }
    return decodeHalf(new Uint16Array(bytes.buffer, bytes.byteOffset, indices.length * this.activationSize));
  }
}

export interface ExtractedSet {
  set: ActivationSet;
  failures: { file: string; reason: string }[];
}

/**
 * Runs the frozen part over `samples` in ONNX Runtime (decoding the next batch while the current
 * one runs, as extract.ts does) and writes the set's files. Unreadable photos are skipped and
 * reported; the caller decides how many are too many.
 */
export async function extractActivations(
  session: OnnxSession,
  samples: Sample[],
  spec: PreprocessSpec,
  target: { dir: string; name: string; activationSize: number } & ViewOptions,
  progress?: (done: number) => void,
): Promise<ExtractedSet> {
  const batchSize = 32;
  const { dir, name, activationSize } = target;
  await mkdir(dir, { recursive: true });
  const activationFile = path.join(dir, `${name}.act.f16`);
  const partial = `${activationFile}.partial`;
  const out = await open(partial, 'w');
  const rows: Float32Array[] = [];
  const kept: Sample[] = [];
  const failures: ExtractedSet['failures'] = [];
  let featureDim = 0;
  try {
    for await (const batch of photoBatches(samples, spec, batchSize)) {
      failures.push(...batch.failures);
      const count = batch.samples.length;
      // Each view is one more record of the photo: an epoch then sees every view once.
      for (let view = 0; view < target.views && count > 0; view++) {
        kept.push(...batch.samples);
        const inputs = view === 0 ? batch.inputs : augmentBatch(batch.inputs, batch.samples, spec, view, target.seed);
        const { data } = await session.run(inputs, [count, spec.height, spec.width, 3]);
        const rowSize = data.length / count;
        featureDim = rowSize - activationSize;
        const bits = new Uint16Array(count * activationSize);
        for (let i = 0; i < count; i++) {
          const row = data.subarray(i * rowSize, (i + 1) * rowSize);
          encodeHalf(row.subarray(0, activationSize), bits.subarray(i * activationSize, (i + 1) * activationSize));
          rows.push(row.slice(activationSize));
        }
        await out.write(new Uint8Array(bits.buffer));
      }
      progress?.(batch.done);
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await rename(partial, activationFile);
  const features = new Float32Array(rows.length * featureDim);
  rows.forEach((row, i) => features.set(row, i * featureDim));
  await writeFileAtomicF32(path.join(dir, `${name}.feat.f32`), features);
  const labels = Int32Array.from(kept, (s) => s.label);
  const featureSet: FeatureSet = { features, labels, dim: featureDim, files: kept.map((s) => s.file) };
  return { set: new ActivationSet(activationFile, activationSize, featureSet), failures };
}

async function writeFileAtomicF32(file: string, values: Float32Array): Promise<void> {
  const partial = `${file}.partial`;
  const handle = await open(partial, 'w');
  try {
    await handle.writeFile(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, file);
}

/** Records which run the files belong to; written after every set, so its presence means complete. */
export async function writeCacheIndex(dir: string, key: string, sets: Record<string, ActivationSet>): Promise<void> {
  const first = Object.values(sets)[0];
  const index: CacheIndex = {
    key,
    format: ACTIVATION_FORMAT,
    activationSize: first.activationSize,
    featureDim: first.features.dim,
    sets: Object.entries(sets).map(([name, s]) => ({ name, n: s.size, files: s.features.files, labels: [...s.features.labels] })),
  };
  await writeJsonAtomic(path.join(dir, 'index.json'), index);
}

/** The cached sets when `dir` holds a complete cache written under `key`, else undefined. */
export async function readCache(dir: string, key: string): Promise<Record<string, ActivationSet> | undefined> {
  let index: CacheIndex;
  try {
    index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as CacheIndex;
  } catch {
    return undefined;
  }
  if (index.key !== key || index.format !== ACTIVATION_FORMAT) return undefined;
  const out: Record<string, ActivationSet> = {};
  for (const s of index.sets) {
    const activationFile = path.join(dir, `${s.name}.act.f16`);
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, `${s.name}.feat.f32`));
      const { size } = await stat(activationFile);
      if (size !== s.n * index.activationSize * 2 || bytes.byteLength !== s.n * index.featureDim * 4) return undefined;
    } catch {
      return undefined;
    }
    const features = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    out[s.name] = new ActivationSet(activationFile, index.activationSize, { features, labels: Int32Array.from(s.labels), dim: index.featureDim, files: s.files });
  }
  return out;
}

/** Removes a cache written for another run before new files replace it. */
export async function clearCache(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
