// Progress for a run whose length is not known in advance (a folder walk is streamed, never
// counted first): how many are done and at what rate. On a terminal one line rewritten at most
// a few times a second; on pipes and in Kubernetes logs a plain line every 30 s, so a day-long
// run leaves a readable log.

export interface Counter {
  update(done: number): void;
  stop(): void;
}

const TTY_EVERY_MS = 250;
const LOG_EVERY_MS = 30_000;

export function createCounter(label: string, stream: NodeJS.WriteStream = process.stderr): Counter {
  const t0 = Date.now();
  let last = t0;
  let shown = 0;
  const text = (done: number) => `${label}: ${done} done, ${(done / Math.max((Date.now() - t0) / 1000, 1e-3)).toFixed(1)}/s`;
  return {
    update(done) {
      const now = Date.now();
      if (now - last < (stream.isTTY ? TTY_EVERY_MS : LOG_EVERY_MS)) return;
      last = now;
      shown = done;
      stream.write(stream.isTTY ? `\r${text(done)}\u001b[K` : `${text(done)}\n`);
    },
    stop() {
      if (stream.isTTY && shown > 0) stream.write('\n');
    },
  };
}
