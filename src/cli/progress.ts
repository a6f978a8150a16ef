import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A bar with rate and ETA on a terminal; on pipes and CI logs, a plain line every 10% so logs
 * stay short. Always on stderr: stdout belongs to --json and CSV output.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${label.padEnd(10)} {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const t0 = Date.now();
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, 0, { rate: '0' });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { rate: (done / Math.max((Date.now() - t0) / 1000, 1e-3)).toFixed(1) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  const t0 = Date.now();
  return {
    update(done, total) {
      const decile = Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const seconds = (Date.now() - t0) / 1000;
      const rate = done / Math.max(seconds, 1e-3);
      const eta = rate > 0 ? (total - done) / rate : 0;
      stream.write(`${label}: ${done}/${total} (${Math.round((done / total) * 100)}%), ${rate.toFixed(1)}/s, ETA ${eta.toFixed(0)}s\n`);
    },
    stop() {},
  };
}
