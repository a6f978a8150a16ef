import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../src/util/atomic.ts';

// Markdown for bench/server.ts, and the rewrite of one "## Server" section of BENCHMARKS.md that
// leaves every other section (other benches write their own) as it was.

export interface LoadRow {
  concurrency: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p95: number;
  p99: number;
  /** Mean images per inference batch during the run, read from the server's /metrics. */
  meanBatch: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export function loadTable(rows: readonly LoadRow[]): string {
  const lines = [
    '| concurrency | req/s (200s) | p50 ms | p95 ms | p99 ms | non-2xx | errors | timeouts | mean batch |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.concurrency} | ${(r.ok / r.seconds).toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.errors} | ${r.timeouts} | ${r.meanBatch.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

/** Replaces the "## Server" section (up to the next "## " heading) or appends one. */
export async function writeSection(file: string, section: string): Promise<void> {
  const old = existsSync(file) ? await readFile(file, 'utf8') : '# Benchmarks\n';
  const start = old.search(/^## Server\b/m);
  let next = -1;
  if (start >= 0) {
    const rest = old.slice(start + 1).search(/^## /m);
    next = rest >= 0 ? start + 1 + rest : -1;
  }
  const body = `${section.trim()}\n`;
  const updated =
    start < 0 ? `${old.trimEnd()}\n\n${body}` : `${old.slice(0, start)}${body}${next >= 0 ? `\n${old.slice(next)}` : ''}`;
  await writeFileAtomic(file, updated);
}
