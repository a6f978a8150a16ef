import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Sample } from './dataset.ts';

export interface CrossClassDuplicate {
  /** The same bytes, filed under different classes. */
  files: { file: string; label: number }[];
}

/**
 * Finds byte-identical images filed under more than one class: a labelling mistake that teaches
 * the model to contradict itself. Unreadable files are left to the image reader to report.
 */
export async function findCrossClassDuplicates(samples: Sample[], concurrency = 16): Promise<CrossClassDuplicate[]> {
  const byHash = new Map<string, Sample[]>();
  for (let i = 0; i < samples.length; i += concurrency) {
    const chunk = samples.slice(i, i + concurrency);
    const hashes = await Promise.all(
      chunk.map(async (s) => {
        try {
          return createHash('sha1').update(await readFile(s.file)).digest('hex');
        } catch {
          return undefined;
        }
      }),
    );
    chunk.forEach((s, j) => {
      const hash = hashes[j];
      if (hash === undefined) return;
      const group = byHash.get(hash);
      if (group) group.push(s);
      else byHash.set(hash, [s]);
    });
  }
  return [...byHash.values()]
    .filter((group) => new Set(group.map((s) => s.label)).size > 1)
    .map((group) => ({ files: group.map((s) => ({ file: s.file, label: s.label })) }));
}
