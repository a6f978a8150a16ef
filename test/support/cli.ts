import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/** The `footwear` binary of this checkout, as a user runs it. */
export const BIN = path.resolve(import.meta.dirname, '../../bin/footwear.js');

/** Runs `footwear ARGS...` to the end: its exit code and everything it printed. */
export async function footwear(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
