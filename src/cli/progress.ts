import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** Milliseconds since some fixed point; injectable so tests need no real time. */
export type Clock = () => number;

/** Shortest span a rate is measured over: one batch alone says nothing about the rest. */
export const MIN_RATE_SPAN_MS = 1000;

/**
 * Rate and time left, measured from the first reading on. The first reading carries one-off
 * costs (a session's warm-up, the first batch's decoding) and often comes within a millisecond
 * of the start, which gave '32000.0/s, ETA 0s' and then 'ETA 743s'. Until the work after it
 * spans MIN_RATE_SPAN_MS, there is no rate to report.
 */
export class RateMeter {
  private first?: { at: number; done: number };

  constructor(private readonly now: Clock) {}

  reading(done: number, total: number): { rate: number; etaSeconds: number } | undefined {
    const at = this.now();
    if (!this.first) {
      this.first = { at, done };
      return undefined;
    }
    const span = at - this.first.at;
    const work = done - this.first.done;
    if (span < MIN_RATE_SPAN_MS || work <= 0) return undefined;
    const rate = (work * 1000) / span;
    return { rate, etaSeconds: (total - done) / rate };
  }
}

function formatEta(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}min`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/**
 * A bar with rate and ETA on a terminal; on pipes and CI logs, a plain line every 10% so logs
 * stay short. Always on stderr: stdout belongs to --json and CSV output.
 */
export function createProgress(label: string, stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr, now: Clock = () => performance.now()): Progress {
  const meter = new RateMeter(now);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: stream as NodeJS.WriteStream, format: `${label.padEnd(10)} {bar} {percentage}% | {value}/{total} | {rate} | ETA {eta}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, 0, { rate: '-/s', eta: '-' });
          started = true;
        }
        const r = meter.reading(done, total);
        bar.setTotal(total);
        bar.update(done, r ? { rate: `${r.rate.toFixed(1)}/s`, eta: formatEta(r.etaSeconds) } : {});
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const r = meter.reading(done, total);
      const decile = Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const pace = r ? `, ${r.rate.toFixed(1)}/s, ETA ${formatEta(r.etaSeconds)}` : '';
      stream.write(`${label}: ${done}/${total} (${Math.round((done / total) * 100)}%)${pace}\n`);
    },
    stop() {},
  };
}
