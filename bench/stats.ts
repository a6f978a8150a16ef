import os from 'node:os';

// Measuring helpers every bench script shares.

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The 1-minute load average: the machine is shared, so every number is read beside it. */
export function load1m(): number {
  return Number(os.loadavg()[0].toFixed(2));
}
