import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/index.ts';

/** An output file cannot be written; the message names the file and the reason, `code` the errno code. */
export class OutputError extends UserError {
  override name = 'OutputError';
  readonly code: string | undefined;
  constructor(message: string, cause: NodeJS.ErrnoException) {
    super(message, { cause });
    this.code = cause.code;
  }
}

/**
 * Writes a file so that readers see either the old content or the complete new one, never a
 * half-written file after a crash or Ctrl-C: write a temporary file in the same folder (rename
 * is atomic only within one file system), flush it to disk, then rename it over the target.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  // Errors name the target, not the folder or the temporary file the user never asked for.
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    // EEXIST/ENOTDIR here mean some part of the folder path is a file.
    const why = error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'part of its folder path is a file' : `cannot create its folder`;
    throw new OutputError(`cannot write ${target}: ${why} (${error.code ?? error.message})`, error);
  });
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx').catch((error: NodeJS.ErrnoException) => {
    throw new OutputError(`cannot write ${target}: ${error.code ?? error.message}`, error);
  });
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    // A full disk or a file-size limit (ENOSPC, EFBIG) mid-write: the target is untouched.
    const e = error as NodeJS.ErrnoException;
    throw new OutputError(`cannot write ${target}: ${e.code ?? e.message}`, e);
  }
  await syncFolder(dir);
}

/** Persists the rename itself; folders cannot be opened for syncing on Windows, so skip there. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on folders; the data itself is already on disk.
  } finally {
    await handle.close();
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}
