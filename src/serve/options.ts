import os from 'node:os';
import { DEFAULT_MAX_PIXELS, LOCAL_RUNTIME, parseRuntimeChoice, ttaName } from '../core/index.ts';
import type { EpChoice, Log, TtaSetting } from '../core/index.ts';
import type { AccessLog } from './access-log.ts';
import { DEFAULT_OPEN_PATHS } from './auth.ts';
import { parseOrigins } from './cors.ts';

export interface ServeOptions {
  /** Model folder (holding model.onnx) or the .onnx file itself. */
  model: string;
  /** Interface to listen on (default 127.0.0.1: nothing outside this machine can connect). */
  host?: string;
  /** TCP port; 0 picks a free one (default 8080). */
  port?: number;
  ep?: EpChoice;
  /** ONNX Runtime intra-op threads per worker (default: the cores shared out among the workers). */
  threads?: number;
  /** Inference worker threads, each with its own session (default 1). */
  workers?: number;
  /** Images per ONNX Runtime run (default 16). */
  maxBatch?: number;
  /** How long the first waiting image may wait for others to join its batch (default 5 ms). */
  maxDelayMs?: number;
  /** Largest accepted image upload, and largest file in a batch upload (default 10 MiB). */
  maxBodyBytes?: number;
  /**
   * Most images in the server at once (decoding, waiting for a batch, or running); beyond this,
   * 429. Default: 2 x maxBatch x workers, one full batch running and the next gathering per
   * worker, which is all full batches need (32 callers at once at the default max-batch 16).
   */
  maxQueue?: number;
  /**
   * Longest expected wait for a worker, judged by recent batches; an image that would wait
   * longer gets 429 (default 0: off, only maxQueue). A latency-bound service (an upload form)
   * sets it to about half its budget, e.g. 50 for 100 ms.
   */
  maxWaitMs?: number;
  /** Largest width x height decoded; bigger images get 422 (default data's DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /**
   * Where the model runs: 'local' (default: ONNX Runtime on the inference workers) or
   * 'v2://HOST[:PORT]/MODEL', a KServe v2 / Triton server serving the same model, which the
   * workers send preprocessed batches to; readiness then follows that server's.
   */
  runtime?: string;
  /** Folder served at / (the web demo); nothing is served there when unset. */
  web?: string;
  /** How long close() waits for in-flight requests before cutting connections (default 30 s). */
  drainTimeoutMs?: number;
  /** Called with the listening URL before the model is loaded, while /readyz still says 503. */
  onListening?: (url: string) => void;
  /** Receives operational lines: provider fallbacks, worker crashes, internal errors. */
  log?: Log;
  /** File of accepted bearer tokens, one per line; when set, every route but `authOpenPaths` needs one (default: no auth). */
  authTokenFile?: string;
  /** Paths answered without a token: exact, or a prefix ending in * (default: the probes and /metrics). */
  authOpenPaths?: string[];
  /** Origins (scheme://host[:port]) whose web pages may call the server; none by default. */
  corsOrigins?: string[];
  /** Receives one entry per answered request (default: none). */
  accessLog?: AccessLog;
  /** Test-time augmentation for every image served: 'off' (default), 'mirror' or a view count (see core/tta.ts). */
  tta?: TtaSetting;
}

export type ResolvedOptions = Required<Omit<ServeOptions, 'web' | 'onListening' | 'authTokenFile' | 'accessLog' | 'tta'>> &
  Pick<ServeOptions, 'web' | 'onListening' | 'authTokenFile' | 'accessLog'> & {
    /** The --tta setting by its one name ('off', 'mirror', '3', '4'). */
    tta: string;
  };

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  ep: 'auto',
  workers: 1,
  maxBatch: 16,
  maxDelayMs: 5,
  maxBodyBytes: 10 * 1024 * 1024,
  /** Full batches in the server per worker: one running, one gathering. */
  batchesQueued: 2,
  maxWaitMs: 0,
  maxPixels: DEFAULT_MAX_PIXELS,
  drainTimeoutMs: 30_000,
  runtime: LOCAL_RUNTIME,
} as const;

function integer(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`--${name} should be an integer >= ${min}, got ${value}`);
  return value;
}

function port(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new RangeError(`--port should be an integer from 0 to 65535 (0: any free port), got ${value}`);
  return value;
}

export function resolveOptions(options: ServeOptions): ResolvedOptions {
  const d = SERVE_DEFAULTS;
  const workers = integer(options.workers ?? d.workers, 'workers', 1);
  const maxBatch = integer(options.maxBatch ?? d.maxBatch, 'max-batch', 1);
  // ONNX Runtime gets every core, shared out among the workers: measured with bench/server.ts
  // on 2 cores (quiet, load generator on the same machine), 2 threads served 85 req/s at 32
  // connections against 70 with 1, although request handling and decoding need CPU too.
  const threads = options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / workers));
  const runtime = options.runtime ?? d.runtime;
  parseRuntimeChoice(runtime); // a bad v2:// URL fails here, before the server listens
  return {
    model: options.model,
    host: options.host ?? d.host,
    port: port(options.port ?? d.port),
    ep: options.ep ?? d.ep,
    threads: integer(threads, 'threads', 1),
    workers,
    maxBatch,
    maxDelayMs: integer(options.maxDelayMs ?? d.maxDelayMs, 'max-delay-ms', 0),
    maxBodyBytes: integer(options.maxBodyBytes ?? d.maxBodyBytes, 'max-body-bytes', 1),
    maxQueue: integer(options.maxQueue ?? d.batchesQueued * maxBatch * workers, 'max-queue', 1),
    maxWaitMs: integer(options.maxWaitMs ?? d.maxWaitMs, 'max-wait-ms', 0),
    maxPixels: integer(options.maxPixels ?? d.maxPixels, 'max-pixels', 1),
    runtime,
    web: options.web,
    drainTimeoutMs: integer(options.drainTimeoutMs ?? d.drainTimeoutMs, 'drain-timeout-ms', 0),
    onListening: options.onListening,
    log: options.log ?? (() => {}),
    authTokenFile: options.authTokenFile,
    authOpenPaths: options.authOpenPaths ?? [...DEFAULT_OPEN_PATHS],
    corsOrigins: parseOrigins(options.corsOrigins ?? []),
    accessLog: options.accessLog,
    // A bad setting fails here, before the server listens.
    tta: ttaName(options.tta ?? 'off'),
  };
}
