import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Sample } from '../data/index.ts';
import type { OnnxSession } from '../core/index.ts';
import type { PreprocessSpec } from '../core/index.ts';
import { writeFileAtomic, writeJsonAtomic } from '../node/index.ts';
import { extractFeatures, type ExtractResult, type FeatureSet } from './extract.ts';

// Feature extraction is most of a CPU training run (minutes to hours), so it is saved as it goes:
// every CHUNK_IMAGES images become a features file and a record (written in that order, each
// atomically: a record on disk means its features are complete). An interrupted run, resumed or
// repeated with the same cache key, extracts only the chunks that have no record.

/** Images per saved chunk: about 3 s of extraction on a 2-core CPU, so an interrupt loses little. */
export const CHUNK_IMAGES = 256;

interface ChunkRecord {
  key: string;
  start: number;
  end: number;
  dim: number;
  views: number;
  files: string[];
  labels: number[];
  failures: ExtractResult['failures'];
}

/** Where the chunks of the run keyed `key` live; one folder per key, so stale ones are easy to drop. */
export function chunkFolder(cacheDir: string, key: string): string {
  return path.join(cacheDir, `partial-${key}`);
}

/** Removes chunk folders of other keys (an earlier run on other images or settings). */
export async function dropStaleChunks(cacheDir: string, key: string): Promise<void> {
  const keep = path.basename(chunkFolder(cacheDir, key));
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  for (const name of entries) if (name.startsWith('partial-') && name !== keep) await rm(path.join(cacheDir, name), { recursive: true, force: true });
}

async function readChunk(file: string, key: string, start: number, end: number, views: number): Promise<{ record: ChunkRecord; features: Float32Array } | undefined> {
  let record: ChunkRecord;
  try {
    record = JSON.parse(await readFile(`${file}.json`, 'utf8')) as ChunkRecord;
  } catch {
    return undefined;
  }
  if (record.key !== key || record.start !== start || record.end !== end || record.views !== views) return undefined;
  const bytes = await readFile(`${file}.f32`).catch(() => undefined);
  if (!bytes || bytes.byteLength !== views * record.labels.length * record.dim * 4) return undefined;
  return { record, features: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

async function writeChunk(file: string, record: ChunkRecord, result: ExtractResult): Promise<Float32Array> {
  const rows = record.labels.length * record.dim;
  const features = new Float32Array(record.views * rows);
  result.views.forEach((v, i) => features.set(v.features, i * rows));
  await writeFileAtomic(`${file}.f32`, new Uint8Array(features.buffer));
  await writeJsonAtomic(`${file}.json`, record);
  return features;
}

export interface ChunkedOptions {
  /** Folder for this set's chunks (from chunkFolder). */
  dir: string;
  /** Chunk file prefix, e.g. 'train' or 'val'. */
  name: string;
  key: string;
  views: number;
  seed: number;
  progress?: (done: number, total: number) => void;
}

/**
 * extractFeatures over `samples`, CHUNK_IMAGES at a time, each chunk saved once extracted and
 * read back instead when an earlier run saved it. `session` is asked for only when some chunk
 * must be extracted. Returns the joined result and how many images came from saved chunks.
 */
export async function extractInChunks(session: () => Promise<OnnxSession>, samples: Sample[], spec: PreprocessSpec, options: ChunkedOptions): Promise<ExtractResult & { reused: number }> {
  const views = options.views;
  const parts: { record: ChunkRecord; features: Float32Array }[] = [];
  let reused = 0;
  for (let start = 0; start < samples.length; start += CHUNK_IMAGES) {
    const end = Math.min(start + CHUNK_IMAGES, samples.length);
    const file = path.join(options.dir, `${options.name}-${String(start / CHUNK_IMAGES).padStart(5, '0')}`);
    let part = await readChunk(file, options.key, start, end, views);
    if (part) reused += end - start;
    else {
      const result = await extractFeatures(await session(), samples.slice(start, end), spec, {
        views,
        seed: options.seed,
        progress: (done) => options.progress?.(start + done, samples.length),
      });
      const first = result.views[0];
      const record: ChunkRecord = { key: options.key, start, end, dim: first.dim, views, files: first.files, labels: [...first.labels], failures: result.failures };
      part = { record, features: await writeChunk(file, record, result) };
    }
    parts.push(part);
    options.progress?.(end, samples.length);
  }
  return { ...join(parts, views), reused };
}

/** The chunks' rows end to end, one FeatureSet per view. */
function join(parts: { record: ChunkRecord; features: Float32Array }[], views: number): ExtractResult {
  // A chunk whose images all failed has no rows, and so no known dimension.
  const dim = Math.max(0, ...parts.map((p) => p.record.dim));
  const files = parts.flatMap((p) => p.record.files);
  const labels = Int32Array.from(parts.flatMap((p) => p.record.labels));
  const sets: FeatureSet[] = [];
  for (let view = 0; view < views; view++) {
    const features = new Float32Array(labels.length * dim);
    let row = 0;
    for (const { record, features: chunk } of parts) {
      const rows = record.labels.length * record.dim;
      features.set(chunk.subarray(view * rows, (view + 1) * rows), row * dim);
      row += record.labels.length;
    }
    sets.push({ features, labels, dim, files });
  }
  return { views: sets, failures: parts.flatMap((p) => p.record.failures) };
}
