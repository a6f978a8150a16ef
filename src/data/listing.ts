import { stat } from 'node:fs/promises';
import path from 'node:path';
import { walkEntries } from './files.ts';
import { inShard, type Shard } from './shard.ts';

// The files a command line names, as a stream: named files as given, folders walked in sorted
// order, optionally only one shard's part. Nothing is collected, so a catalogue of any size
// lists in the memory of its deepest folder path.

/** One input as given on the command line. */
export interface InputRoot {
  path: string;
  kind: 'folder' | 'file' | 'missing';
  /** What the walk puts before a relative path under this folder ('' for '.'). */
  prefix: string;
}

export interface ListedEntry {
  /** The path as given, or for a folder's images, joined onto the folder as given. */
  file: string;
  /** Which input (0-based) it came from. */
  input: number;
  /** Its path below that folder with '/' separators; '' for a file named as an input. */
  relative: string;
  /** Why it cannot be read, when the listing already knows (a broken link, a FIFO...). */
  error?: string;
}

export interface ListOptions {
  /** Only the entries of this shard (see shard.ts). */
  shard?: Shard;
  /** Files in folders left out because their names are not images' (only this shard's). */
  onSkip?: (file: string, extension: string) => void;
}

const toPosix = (relative: string) => (path.sep === '/' ? relative : relative.split(path.sep).join('/'));

/** What shards an entry: its path below its folder, or for a named file, its name (which stays the same wherever it is mounted). */
export function shardKey(entry: Pick<ListedEntry, 'file' | 'relative'>): string {
  return entry.relative || path.basename(entry.file);
}

export async function describeInputs(inputs: readonly string[]): Promise<InputRoot[]> {
  return Promise.all(
    inputs.map(async (input): Promise<InputRoot> => {
      const info = await stat(input).catch(() => undefined);
      // path.join normalises the way the walk's joins do ('photos/' and './photos' both give 'photos/x.jpg').
      const prefix = path.join(input, '\0').slice(0, -1);
      return { path: input, kind: info === undefined ? 'missing' : info.isDirectory() ? 'folder' : 'file', prefix };
    }),
  );
}

/** Lists `inputs` in order: see ListedEntry. A missing input is listed as given: reading it then says why. */
export async function* listInputs(inputs: readonly string[], options: ListOptions = {}): AsyncGenerator<ListedEntry> {
  const { shard, onSkip } = options;
  for (const [input, root] of (await describeInputs(inputs)).entries()) {
    if (root.kind !== 'folder') {
      const entry = { file: root.path, input, relative: '' };
      if (inShard(shardKey(entry), shard)) yield entry;
      continue;
    }
    for await (const found of walkEntries(root.path)) {
      const entry: ListedEntry = { file: found.file, input, relative: toPosix(found.file.slice(root.prefix.length)) };
      if (!inShard(shardKey(entry), shard)) continue;
      if (found.kind === 'skipped') onSkip?.(found.file, found.extension);
      else yield found.kind === 'error' ? { ...entry, error: found.reason } : entry;
    }
  }
}

/** Expands a mix of files and folders into image files, keeping the order given (in memory: see listInputs for a stream). */
export async function expandInputs(inputs: string[], onError?: (file: string, reason: string) => void): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of listInputs(inputs)) {
    if (entry.error === undefined) out.push(entry.file);
    else onError?.(entry.file, entry.error);
  }
  return out;
}
