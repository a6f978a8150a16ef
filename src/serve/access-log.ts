import { closeSync, createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServeConfigError } from './config-error.ts';
import { RequestTrace, withTrace } from './trace.ts';

// One JSON object per answered request, on one line, for a log pipeline (Loki, Elasticsearch,
// CloudWatch...) to parse without patterns: who asked what, the answer, how many images, and
// where the time went (waiting for a batch, in the model, in total).

export interface AccessLogEntry {
  /** When the answer was sent, ISO 8601 UTC. */
  time: string;
  /** The request id, as in the X-Request-Id response header. */
  id: string;
  method: string;
  /** The route's pattern (e.g. /v2/models/:name), or 'unmatched'. */
  route: string;
  /** The path asked for, without the query string (which may carry anything). */
  path: string;
  status: number;
  /** Images the request had classified (past the 429 check), decodable or not. */
  images: number;
  /** Longest wait of one of its images for a batch to start, ms (0 without images). */
  queueMs: number;
  /** Longest model run one of its images was in, ms (0 without images). */
  inferenceMs: number;
  /** From the request's arrival to the end of the answer, ms. */
  totalMs: number;
  remote: string;
}

export type AccessLog = (entry: AccessLogEntry) => void;

const ms = (value: number) => Math.round(value * 100) / 100;

export function accessLogHooks(app: FastifyInstance, log: AccessLog): void {
  const traces = new WeakMap<FastifyRequest, RequestTrace>();
  app.addHook('onRequest', async (request) => {
    traces.set(request, new RequestTrace());
  });
  // After the body is parsed, so the handler and everything it awaits run inside the trace
  // (body parsing runs on the socket's events, outside any context set before it).
  app.addHook('preValidation', (request, _reply, done) => {
    const trace = traces.get(request);
    if (trace) withTrace(trace, done);
    else done();
  });
  app.addHook('onResponse', async (request, reply) => {
    const trace = traces.get(request) ?? new RequestTrace();
    log({
      time: new Date().toISOString(),
      id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      path: request.url.split('?')[0],
      status: reply.statusCode,
      images: trace.images,
      queueMs: ms(trace.queueMs),
      inferenceMs: ms(trace.inferenceMs),
      totalMs: ms(reply.elapsedTime),
      remote: request.ip,
    });
  });
}

export interface AccessLogSink {
  log: AccessLog;
  close(): Promise<void>;
}

/**
 * Where --access-log sends lines: '-' for stderr, 'off' for nowhere, else a file appended to
 * (opened now, so a path that cannot be written stops the server at startup, not at the first request).
 */
export function openAccessLog(target: string, flag = '--access-log'): AccessLogSink | undefined {
  if (target === 'off') return undefined;
  if (target === '-') return { log: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`), close: async () => {} };
  try {
    closeSync(openSync(target, 'a'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ServeConfigError(`${flag} ${target}: cannot append to it (${e.code ?? e.message}); expected a file path, - for stderr, or off`);
  }
  const stream = createWriteStream(target, { flags: 'a' });
  // A log that stops working (a full disk) must not take the server down with it.
  stream.on('error', () => {});
  return {
    log: (entry) => void stream.write(`${JSON.stringify(entry)}\n`),
    close: async () => {
      const closed = once(stream, 'close');
      stream.end();
      await closed;
    },
  };
}
