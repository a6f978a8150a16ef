// Markdown for bench/server.ts: the load table and its percentiles.

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
