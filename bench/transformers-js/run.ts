// One whole command under measurement: spawned, timed from spawn to exit, its CPU seconds and
// peak memory read from the usage preload, and its JSONL rows scored against the class folders.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'usage.mjs');

export interface CommandSpec {
  /** Arguments to node after the preload; the command writes its JSONL rows to `out`. */
  args: string[];
  cwd: string;
  out: string;
}

export interface CommandRun {
  seconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  /** Rows written, one per photo. */
  photos: number;
  /** Rows whose label is the photo's class folder. */
  right: number;
}

/** Photos scored right: a row's label equals the name of the folder the photo sits in. */
export function scoreRows(jsonl: string): { photos: number; right: number } {
  let photos = 0;
  let right = 0;
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { file?: string; label?: string };
    // footwear ends its file with a {"summary": ...} line, which is no photo.
    if (row.file === undefined) continue;
    photos++;
    if (row.label !== undefined && row.label === path.basename(path.dirname(row.file))) right++;
  }
  return { photos, right };
}

export async function runCommand({ args, cwd, out }: CommandSpec): Promise<CommandRun> {
  const usageFile = `${out}.usage.json`;
  await rm(out, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', USAGE, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FOOTWEAR_USAGE_FILE: usageFile } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr}`);
  const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { cpuSeconds: number; maxRssBytes: number };
  return { seconds, ...usage, ...scoreRows(await readFile(out, 'utf8')) };
}
