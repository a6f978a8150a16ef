import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

export function isImagePath(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists image files below `dir`, sorted, following directory links once each (a link loop is
 * visited once, not forever). Files that cannot be listed are reported through `onError`.
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
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      onError(current, `cannot list folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return;
    }
    entries.sort((a, b) => byName(a.name, b.name));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          isDir = (await stat(full)).isDirectory();
        } catch {
          onError(full, 'broken symbolic link');
          continue;
        }
      }
      if (isDir) await visit(full);
      else if (isImagePath(entry.name)) out.push(full);
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
