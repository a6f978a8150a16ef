import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileNameText, walkImages } from './files.ts';
import { UserError } from '../core/index.ts';

export class DatasetError extends UserError {
  override name = 'DatasetError';
}

export interface Sample {
  file: string;
  label: number;
}

export interface Dataset {
  root: string;
  labels: string[];
  samples: Sample[];
  /** Files found but skipped (unreadable folders, broken links). */
  skipped: { file: string; reason: string }[];
}

/**
 * Reads a folder-per-class dataset (the Keras image_dataset_from_directory convention): each
 * sub-folder is a class, named by the folder, in sorted order; images may sit at any depth.
 */
export async function discoverDataset(root: string, options: { minClasses?: number } = {}): Promise<Dataset> {
  const minClasses = options.minClasses ?? 2;
  let entries;
  try {
    // Names as bytes: a folder name that is not UTF-8 cannot become a label (see fileNameText).
    entries = await readdir(root, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    throw new DatasetError(`${root}: cannot read dataset folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const classDirs: string[] = [];
  for (const entry of entries) {
    const { text: name, valid } = fileNameText(entry.name);
    if (name.startsWith('.')) continue;
    let isDir = entry.isDirectory();
    // A link counts when it leads to a folder; a link to a file or a broken one is no class.
    if (entry.isSymbolicLink()) isDir = await stat(Buffer.concat([Buffer.from(root + path.sep), entry.name])).then((info) => info.isDirectory(), () => false);
    if (!isDir) continue;
    if (!valid) {
      throw new DatasetError(`${path.join(root, name)}: class folder name is not valid UTF-8 (shown as \\xNN); rename it, the name becomes the label`);
    }
    classDirs.push(name);
  }
  classDirs.sort();
  if (classDirs.length < minClasses) {
    throw new DatasetError(
      `${root}: found ${classDirs.length} class folder(s)${classDirs.length ? ` (${classDirs.join(', ')})` : ''}; ` +
        `a classifier needs at least ${minClasses}: put each class's images in its own sub-folder`,
    );
  }
  const samples: Sample[] = [];
  const skipped: Dataset['skipped'] = [];
  const empty: string[] = [];
  for (const [label, name] of classDirs.entries()) {
    const files = await walkImages(path.join(root, name), (file, reason) => skipped.push({ file, reason }));
    if (files.length === 0) empty.push(name);
    for (const file of files) samples.push({ file, label });
  }
  if (empty.length > 0) {
    throw new DatasetError(`${root}: class folder(s) with no images: ${empty.join(', ')}; add images or remove the folder`);
  }
  return { root, labels: classDirs, samples, skipped };
}

/** A seeded PRNG (mulberry32): the same seed gives the same split and shuffles on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits per class so every class keeps its share in validation, even when classes are unbalanced. */
export function stratifiedSplit(samples: Sample[], fraction: number, seed: number): { train: Sample[]; val: Sample[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new DatasetError(`validation split should be in [0, 1), got ${fraction}`);
  const random = seededRandom(seed);
  const byLabel = new Map<number, Sample[]>();
  for (const s of samples) {
    const group = byLabel.get(s.label);
    if (group) group.push(s);
    else byLabel.set(s.label, [s]);
  }
  const train: Sample[] = [];
  const val: Sample[] = [];
  for (const group of byLabel.values()) {
    const shuffled = shuffle(group, random);
    const nVal = fraction > 0 && group.length > 1 ? Math.max(1, Math.round(group.length * fraction)) : 0;
    val.push(...shuffled.slice(0, nVal));
    train.push(...shuffled.slice(nVal));
  }
  return { train: shuffle(train, random), val };
}
