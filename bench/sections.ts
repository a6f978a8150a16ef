import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/node/index.ts';

export const BENCHMARKS_MD = path.resolve(fileURLToPath(import.meta.url), '../../BENCHMARKS.md');

/** The machine line every benchmark section carries beside its numbers. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()}-${os.arch()}, Node ${process.version}`;
}

/**
 * Replaces the section that starts with `heading` (a "## " line) up to the next "## " heading,
 * or appends it, leaving every other section as it was: each bench script owns its own sections.
 */
export async function writeSection(heading: string, body: string, file = BENCHMARKS_MD): Promise<void> {
  const old = existsSync(file) ? await readFile(file, 'utf8') : '# Benchmarks\n';
  const lines = old.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading.trim());
  const section = `${heading.trim()}\n\n${body.trim()}\n`;
  if (start < 0) {
    await writeFileAtomic(file, `${old.trimEnd()}\n\n${section}`);
    return;
  }
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  const updated = [...lines.slice(0, start), ...section.split('\n'), ...lines.slice(end)].join('\n');
  await writeFileAtomic(file, updated.replace(/\n{3,}/g, '\n\n'));
}
