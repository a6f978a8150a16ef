import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function utf8SequenceAt(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (length === 0 || i + length > bytes.length) return 0;
  try {
    // The strict decoder also rejects overlong forms and surrogates, which the lead byte alone does not show.
    strictUtf8.decode(bytes.subarray(i, i + length));
    return length;
  } catch {
    return 0;
  }
}

/**
 * A file name as text. Linux names are bytes, and Node's string paths cannot hold bytes that are
 * not UTF-8: reading such a name as a string turns them into U+FFFD and yields a path that does
 * not exist, so the file would be reported "not found". Bytes that are not UTF-8 are shown as
 * \xNN instead and `valid` is false, so the caller can say what is wrong with the name.
 */
export function fileNameText(name: Uint8Array): { text: string; valid: boolean } {
  let text = '';
  let valid = true;
  for (let i = 0; i < name.length; ) {
    const length = utf8SequenceAt(name, i);
    if (length > 0) {
      text += Buffer.from(name.buffer, name.byteOffset + i, length).toString('utf8');
      i += length;
    } else {
      text += `\\x${name[i].toString(16).toUpperCase().padStart(2, '0')}`;
      valid = false;
      i += 1;
    }
  }
  return { text, valid };
}

type EntryKind = 'folder' | 'file' | 'other';

/**
 * What a folder walk meets: an image to read, an entry it cannot use (a broken link, a FIFO, a
 * name that is not UTF-8), or a file skipped because its name is not an image's (an .svg, a
 * README): those were once dropped without a word, while the same file named on a command line
 * gets a clear error, so the walk reports them for callers to count.
 */
export type WalkEntry =
  | { kind: 'image'; file: string }
  | { kind: 'error'; file: string; reason: string }
  | { kind: 'skipped'; file: string; extension: string };

/**
 * Walks `dir` in sorted order (by name within each folder, a folder's contents at its name's
 * place), following directory links once each (a link loop is visited once, not forever). Only
 * regular files are images: reading a FIFO named `x.jpg` would block forever and a link to
 * /dev/zero would never end, so those are errors instead. Lazy: a folder is listed when the walk
 * reaches it, so memory holds the folders on the current path (and the folders seen, against
 * loops), never the whole tree.
 */
export async function* walkEntries(dir: string): AsyncGenerator<WalkEntry> {
  const seen = new Set<string>();
  async function* visit(current: string): AsyncGenerator<WalkEntry> {
    let real: string;
    try {
      real = await realpath(current);
    } catch (error) {
      yield { kind: 'error', file: current, reason: (error as Error).message };
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      // Names as bytes, so a name that is not UTF-8 can be told apart (see fileNameText).
      entries = await readdir(current, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      yield { kind: 'error', file: current, reason: `cannot list folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
      return;
    }
    const named = entries.map((entry) => ({ entry, ...fileNameText(entry.name) })).sort((a, b) => byName(a.text, b.text));
    for (const { entry, text, valid } of named) {
      const full = path.join(current, text);
      let kind: EntryKind = entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'other';
      if (entry.isSymbolicLink()) {
        try {
          // By bytes, so a link whose name is not UTF-8 is still classified correctly.
          const info = await stat(Buffer.concat([Buffer.from(current + path.sep), entry.name]));
          kind = info.isDirectory() ? 'folder' : info.isFile() ? 'file' : 'other';
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const reason = code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'broken symbolic link' : `cannot follow symbolic link (${code ?? (error as Error).message})`;
          yield { kind: 'error', file: full, reason };
          continue;
        }
      }
      if (kind === 'folder') {
        if (valid) yield* visit(full);
        else yield { kind: 'error', file: full, reason: 'folder name is not valid UTF-8 (shown as \\xNN), so its images cannot be opened; rename the folder' };
      } else if (isImagePath(text)) {
        if (!valid) yield { kind: 'error', file: full, reason: 'file name is not valid UTF-8 (shown as \\xNN), so the file cannot be opened; rename it' };
        else if (kind === 'file') yield { kind: 'image', file: full };
        else yield { kind: 'error', file: full, reason: 'not a regular file (a FIFO, socket or device), so it is not read' };
      } else if (kind === 'file') {
        yield { kind: 'skipped', file: full, extension: path.extname(text).toLowerCase() };
      }
    }
  }
  yield* visit(dir);
}

/**
 * Lists image files below `dir`, sorted (see walkEntries); entries that cannot be listed or used
 * go to `onError`, files whose names are not images' are left out.
 */
export async function walkImages(dir: string, onError: (file: string, reason: string) => void = () => {}): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of walkEntries(dir)) {
    if (entry.kind === 'image') out.push(entry.file);
    else if (entry.kind === 'error') onError(entry.file, entry.reason);
  }
  return out;
}
