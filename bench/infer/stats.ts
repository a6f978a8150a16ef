// Small measuring tools shared by every row of the inference bench.

export { quantile, load1m } from '../stats.ts';

export const MIB = 2 ** 20;

/**
 * Samples process.memoryUsage().rss on a timer and keeps the maxima: one for the whole run, one
 * since the last `phase()`. onnxruntime-node runs block the event loop, so a peak inside a run
 * can be missed; `sample()` after each step catches what the run left behind.
 */
export class RssSampler {
  private peak = 0;
  private phasePeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 20) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    // A forgotten sampler must not keep the process alive.
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.phasePeak) this.phasePeak = rss;
  }

  /** Starts a new phase; returns the peak of the phase that ended, in MiB. */
  phase(): number {
    this.sample();
    const peak = this.phasePeak;
    this.phasePeak = process.memoryUsage().rss;
    return peak / MIB;
  }

  /** Peak over the sampler's whole life, in MiB. */
  get peakMiB(): number {
    this.sample();
    return this.peak / MIB;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
