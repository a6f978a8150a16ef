import { AsyncLocalStorage } from 'node:async_hooks';

// What one request's images went through, gathered where it happens (the pipeline) for the
// access log, without threading a parameter through every route: the request's trace is the
// async context its handler runs in.

export class RequestTrace {
  /** Images taken into the pipeline (past the 429 check), decodable or not. */
  images = 0;
  /** Longest wait of one of its images for a batch to start, ms. */
  queueMs = 0;
  /** Longest batch run one of its images was in, ms. */
  inferenceMs = 0;

  admitted(): void {
    this.images++;
  }

  ran(queueMs: number, inferenceMs: number): void {
    this.queueMs = Math.max(this.queueMs, queueMs);
    this.inferenceMs = Math.max(this.inferenceMs, inferenceMs);
  }
}

const traces = new AsyncLocalStorage<RequestTrace>();

/** Runs `next` (and all it awaits) with `trace` as the current request's. */
export function withTrace(trace: RequestTrace, next: () => void): void {
  traces.run(trace, next);
}

/** The trace of the request being handled, if the access log keeps one. */
export function currentTrace(): RequestTrace | undefined {
  return traces.getStore();
}
