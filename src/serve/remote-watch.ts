import { parseRuntimeChoice, type Log, type V2Target } from '../core/index.ts';
import { V2Client } from '../node/index.ts';
import { HttpError, RETRY_AFTER_SECONDS } from './http-error.ts';

// With --runtime v2://, the model runs on another server, which can go away and come back while
// this one runs. The watch asks it whether the model is ready every second and marks it away at
// once when a batch could not reach it, so readiness (/readyz, /v2/health/ready) goes false and
// requests get 503 at the door instead of waiting out retries; once it answers ready again, this
// server is ready again, with no restart.

/** How often the remote model's readiness is asked. */
export const REMOTE_PROBE_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;
/** The class name a worker's remote runtime gives an error when the server could not be reached (src/node RemoteUnavailableError). */
const UNAVAILABLE = 'RemoteUnavailableError';

/** What clients are told; where the model runs is the operator's business, so the log has the address and the reason. */
const remoteAway = () => new HttpError(503, 'remote-unavailable', 'the model server is not answering; retry shortly', { 'retry-after': String(RETRY_AFTER_SECONDS) });

export class RemoteWatch {
  private away?: string;
  private timer?: NodeJS.Timeout;
  private probing = false;
  private readonly client: V2Client;

  private constructor(
    readonly target: V2Target,
    private readonly log: Log,
  ) {
    this.client = new V2Client(target);
  }

  /** A started watch for a v2:// runtime; undefined for a local one. */
  static start(runtime: string, log: Log): RemoteWatch | undefined {
    const choice = parseRuntimeChoice(runtime);
    if (choice.kind === 'local') return undefined;
    const watch = new RemoteWatch(choice.target, log);
    watch.timer = setInterval(() => void watch.probe(), REMOTE_PROBE_MS);
    watch.timer.unref();
    return watch;
  }

  /** The 503 to answer while the remote is away; undefined while it serves. */
  unavailable(): HttpError | undefined {
    return this.away === undefined ? undefined : remoteAway();
  }

  /** What a failed batch is answered with: 503 when the remote could not be reached (which marks it away), else the error itself. */
  batchFailed(error: Error): Error {
    if (error.name !== UNAVAILABLE) return error;
    this.markAway(error.message.replace(`${this.target.url}: `, ''));
    return remoteAway();
  }

  close(): void {
    clearInterval(this.timer);
    this.client.close();
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const { ready, reason } = await this.client.ready(PROBE_TIMEOUT_MS);
      if (ready) this.markBack();
      else this.markAway(reason ?? 'not ready');
    } finally {
      this.probing = false;
    }
  }

  private markAway(reason: string): void {
    if (this.away === undefined) this.log(`${this.target.url} is not answering (${reason}); not ready, answering 503 until it is back`);
    this.away = reason;
  }

  private markBack(): void {
    if (this.away === undefined) return;
    this.away = undefined;
    this.log(`${this.target.url} is back; ready again`);
  }
}
