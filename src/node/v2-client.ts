import http from 'node:http';
import { firstLine, UserError, type V2Target } from '../core/index.ts';

// HTTP to one KServe v2 / Triton model, for the remote runtime and for serve's watch on it: a
// keep-alive connection pool (node:http's Agent; undici is not a dependency here), a time limit
// per try, and bounded retries with exponential backoff where trying again can help: connection
// errors (the server restarting, a keep-alive socket it just closed), 503 (loading or draining)
// and 429 (full; footwear serve says when to come back in Retry-After).

export interface V2ClientOptions {
  /** Longest wait for one try's whole answer, in ms (default 30 s); a try that runs out is not retried. */
  timeoutMs?: number;
  /** Tries after the first on connection errors, 503 and 429 (default 3). */
  retries?: number;
  /** Wait before the first retry, in ms, doubled for each next one (default 100); never beyond 2 s. */
  backoffMs?: number;
}

export const V2_CLIENT_DEFAULTS = { timeoutMs: 30_000, retries: 3, backoffMs: 100 } as const;
const MAX_BACKOFF_MS = 2_000;
const RETRY_STATUSES = new Set([429, 503]);
/** Probabilities and metadata are small; an answer beyond this is not from a classifier. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The server could not be reached, or kept saying it cannot serve now, after every try. */
export class RemoteUnavailableError extends UserError {
  override name = 'RemoteUnavailableError';
}

/** The server answered, with an error that trying again would not change (400, 404, 413, 500...). */
export class RemoteError extends UserError {
  override name = 'RemoteError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

class TimeoutError extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a v2 error body says: {"error": "..."} by the protocol; the start of the body otherwise. */
export function errorText(answer: Answer): string {
  const text = answer.body.toString('utf8');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (typeof (body.error as { message?: unknown })?.message === 'string') return (body.error as { message: string }).message;
  } catch {
    // not JSON: show it as it came
  }
  return firstLine(text.slice(0, 200)) || '(empty body)';
}

function connectionReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `connection failed: ${code}` : firstLine(error);
}

export class V2Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly options: Required<V2ClientOptions>;
  /** /v2/models/NAME, the model's path on the server. */
  readonly modelPath: string;

  constructor(
    readonly target: V2Target,
    options: V2ClientOptions = {},
  ) {
    this.options = { ...V2_CLIENT_DEFAULTS, ...options };
    this.modelPath = `/v2/models/${encodeURIComponent(target.model)}`;
  }

  /** One try: the whole answer, or a rejection (TimeoutError after `timeoutMs`, else the socket's error). */
  private send(method: string, path: string, parts: readonly Uint8Array[], headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      // Every way out clears the timer: a pending one would keep a finished CLI run alive.
      const settle = <T>(done: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        done(value);
      };
      const fail = settle(reject);
      const length = parts.reduce((n, p) => n + p.byteLength, 0);
      const request = http.request(
        { host: this.target.host, port: this.target.port, path, method, agent: this.agent, headers: { ...headers, ...(method !== 'GET' && { 'content-length': length }) } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) request.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
            else chunks.push(chunk);
          });
          response.on('end', () => settle(resolve)({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
          response.on('error', fail);
        },
      );
      const timer = setTimeout(() => request.destroy(new TimeoutError()), timeoutMs);
      request.on('error', fail);
      // The parts are written as they are: a batch's tensor goes out without being copied into one body.
      for (const part of parts) request.write(part);
      request.end();
    });
  }

  /**
   * Sends with retries on connection errors, 503 and 429; any other answer is returned. Throws
   * RemoteUnavailableError naming the server and the last reason once the tries are spent, or at
   * once when a try ran out of time (a server that slow would only be given more work).
   */
  async call(method: string, path: string, parts: readonly Uint8Array[] = [], headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
    const { retries, backoffMs, timeoutMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      let retryAfterMs = 0;
      try {
        const answer = await this.send(method, path, parts, headers, timeoutMs);
        if (!RETRY_STATUSES.has(answer.status)) return answer;
        reason = `${answer.status} ${errorText(answer)}`;
        retryAfterMs = Number(answer.headers['retry-after']) * 1000 || 0;
      } catch (error) {
        if (error instanceof TimeoutError) throw new RemoteUnavailableError(`${this.target.url}: no answer within ${timeoutMs} ms`);
        reason = connectionReason(error);
      }
      if (attempt >= retries) throw new RemoteUnavailableError(`${this.target.url}: ${reason}, tried ${attempt + 1} times`);
      // Jittered, so the replicas of a front that lost the same server do not come back in step.
      const backoff = Math.max(backoffMs * 2 ** attempt, retryAfterMs);
      await sleep(Math.min(MAX_BACKOFF_MS, backoff) * (0.75 + Math.random() * 0.5));
    }
  }

  /** GET of a JSON document under the model's path ('' for the metadata); RemoteError for any status but 200. */
  async getJson(suffix = ''): Promise<unknown> {
    const answer = await this.call('GET', `${this.modelPath}${suffix}`);
    if (answer.status !== 200) throw new RemoteError(answer.status, `${this.target.url}: GET ${this.modelPath}${suffix} answered ${answer.status}: ${errorText(answer)}`);
    try {
      return JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new RemoteError(answer.status, `${this.target.url}: GET ${this.modelPath}${suffix} answered with a body that is not JSON`);
    }
  }

  /** Whether the model is ready now: one try, no retries, a short time limit (for a readiness watch). */
  async ready(timeoutMs: number): Promise<{ ready: boolean; reason?: string }> {
    try {
      const answer = await this.send('GET', `${this.modelPath}/ready`, [], {}, timeoutMs);
      return answer.status === 200 ? { ready: true } : { ready: false, reason: `${answer.status} ${errorText(answer)}` };
    } catch (error) {
      return { ready: false, reason: error instanceof TimeoutError ? `no answer within ${timeoutMs} ms` : connectionReason(error) };
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}
