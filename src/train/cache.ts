import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../node/index.ts';
import type { FeatureSet } from './extract.ts';

// Extracting features is most of a CPU training run, so they are kept on disk: a resumed or
// repeated run with the same images, backbone and preprocessing skips straight to the head.

export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

interface CacheIndex {
  key: string;
  sets: { name: string; n: number; dim: number; files: string[]; labels: number[] }[];
  /** Images that could not be read, so a run from the cache reports them too. */
  failures?: { file: string; reason: string }[];
}

export async function writeFeatureCache(dir: string, key: string, sets: Record<string, FeatureSet>, failures: CacheIndex['failures'] = []): Promise<void> {
  const index: CacheIndex = { key, sets: [], failures };
  for (const [name, set] of Object.entries(sets)) {
    await writeFileAtomic(path.join(dir, `${name}.f32`), new Uint8Array(set.features.buffer, set.features.byteOffset, set.features.byteLength));
    index.sets.push({ name, n: set.labels.length, dim: set.dim, files: set.files, labels: [...set.labels] });
  }
  await writeJsonAtomic(path.join(dir, 'index.json'), index);
}

export async function readFeatureCache(dir: string, key: string): Promise<{ sets: Record<string, FeatureSet>; failures: NonNullable<CacheIndex['failures']> } | undefined> {
  let index: CacheIndex;
  try {
    index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as CacheIndex;
  } catch {
    return undefined;
  }
  if (index.key !== key) return undefined;
  const out: Record<string, FeatureSet> = {};
  for (const s of index.sets) {
    const bytes = await readFile(path.join(dir, `${s.name}.f32`));
    if (bytes.byteLength !== s.n * s.dim * 4) return undefined;
    const features = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    out[s.name] = { features, labels: Int32Array.from(s.labels), dim: s.dim, files: s.files };
  }
  return { sets: out, failures: index.failures ?? [] };
}
