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
 * Lists image files below `dir`, sorted, following directory links once each (a link loop is
 * visited once, not forever). Only regular files are listed: reading a FIFO named `x.jpg` would
 * block forever and a link to /dev/zero would never end, so those are reported instead. Entries
 * that cannot be listed or used (broken links, names that are not UTF-8) go to `onError`.
 */
export async function walkImages(dir: string, onError: (file: string, reason: string) => void = () => {}): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  async function visit(current: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(current);
    } catch (error) {
      onError(current, (error as Error).message);
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      // Names as bytes, so a name that is not UTF-8 can be told apart (see fileNameText).
      entries = await readdir(current, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      onError(current, `cannot list folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
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
          if (code === 'ELOOP') onError(full, 'symbolic link loop');
          else if (code === 'ENOENT') onError(full, 'broken symbolic link');
          else onError(full, `cannot follow symbolic link (${code ?? (error as Error).message})`);
          continue;
        }
      }
      if (kind === 'folder') {
        if (valid) await visit(full);
        else onError(full, 'folder name is not valid UTF-8 (shown as \\xNN), so its images cannot be opened; rename the folder');
      } else if (isImagePath(text)) {
        if (!valid) onError(full, 'file name is not valid UTF-8 (shown as \\xNN), so the file cannot be opened; rename it');
        else if (kind === 'file') out.push(full);
        else onError(full, 'not a regular file (a FIFO, socket or device), so it is not read');
      }
    }
  }
  await visit(dir);
  return out;
}

/** Expands a mix of files and folders into image files, keeping the order given. */
export async function expandInputs(inputs: string[], onError?: (file: string, reason: string) => void): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      out.push(input); // reported per file when it is read, so the batch still runs
      continue;
    }
    if (info.isDirectory()) out.push(...(await walkImages(input, onError)));
    else out.push(input);
  }
  return out;
}
