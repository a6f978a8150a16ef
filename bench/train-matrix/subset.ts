import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom, shuffle } from '../../src/data/index.ts';

/**
 * `perClass` photos of each class folder of `split`, drawn with a fixed seed (so every row and
 * every rerun trains on the same photos), linked into `out`; the folder itself when perClass is unset.
 */
export async function subset(split: string, perClass: number | undefined, out: string): Promise<string> {
  if (perClass === undefined) return split;
  // Rows of one preset share their subsets: the same draw, linked once.
  if (existsSync(out)) return out;
  for (const label of (await readdir(split, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const files = (await readdir(path.join(split, label))).sort();
    await mkdir(path.join(out, label), { recursive: true });
    for (const file of shuffle(files, seededRandom(7)).slice(0, perClass)) await symlink(path.join(split, label, file), path.join(out, label, file));
  }
  return out;
}
