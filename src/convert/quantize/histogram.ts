import type { Range } from './params.ts';

/** Bins per tensor: fine enough that a percentile lands within 1/2048 of the full range. */
export const BINS = 2048;

/** A fixed-range value histogram: the second calibration pass fills it within the first pass's min/max. */
export class Histogram {
  readonly counts = new Float64Array(BINS);
  total = 0;

  constructor(readonly range: Range) {}

  add(values: Float32Array): void {
    const { min, max } = this.range;
    const width = max - min;
    if (!(width > 0)) {
      this.counts[0] += values.length;
      this.total += values.length;
      return;
    }
    const k = BINS / width;
    const counts = this.counts;
    for (let i = 0; i < values.length; i++) {
      const bin = Math.floor((values[i] - min) * k);
      counts[bin < 0 ? 0 : bin >= BINS ? BINS - 1 : bin]++;
    }
    this.total += values.length;
  }

  /** The value below which `fraction` of all values lie (upper bin edge, so never below data). */
  quantile(fraction: number): number {
    const { min, max } = this.range;
    const target = fraction * this.total;
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin];
      if (seen >= target) return min + ((bin + 1) / BINS) * (max - min);
    }
    return max;
  }
}

/**
 * The central `percentile` of the values, e.g. 99.99 drops the 0.005% most extreme on each
 * side: a handful of outliers otherwise stretch a uint8 scale over a range most values never use.
 */
export function percentileRange(histogram: Histogram, percentile: number): Range {
  const tail = (1 - percentile / 100) / 2;
  const { min, max } = histogram.range;
  // Lower edge: the first bin whose cumulative count passes the tail, as a lower bound.
  const lowUpper = histogram.quantile(tail);
  const low = Math.max(min, lowUpper - (max - min) / BINS);
  return { min: tail > 0 ? low : min, max: tail > 0 ? Math.min(max, histogram.quantile(1 - tail)) : max };
}
