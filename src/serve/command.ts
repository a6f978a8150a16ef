import type { Argv } from 'yargs';
import { parseEp } from '../core/index.ts';
import { openAccessLog } from './access-log.ts';
import { DEFAULT_OPEN_PATHS } from './auth.ts';
import { SERVE_DEFAULTS } from './options.ts';
import { startServer, type RunningServer } from './server.ts';

export interface ServeArgs {
  model: string;
  host: string;
  port: number;
  ep: string;
  threads?: number;
  workers: number;
  'max-batch': number;
  'max-delay-ms': number;
  'max-body-bytes': number;
  'max-queue'?: number;
  'max-wait-ms': number;
  'max-pixels': number;
  web?: string;
  'auth-token-file'?: string;
  'auth-open-paths': string[];
  'cors-origin': string[];
  'access-log': string;
}

export function serveOptions(yargs: Argv) {
  const d = SERVE_DEFAULTS;
  return yargs
    .option('model', { type: 'string', demandOption: true, describe: 'model directory or .onnx file' })
    .option('host', { type: 'string', default: d.host, describe: 'interface to listen on' })
    .option('port', { type: 'number', default: d.port, describe: 'TCP port (0: any free port)' })
    .option('ep', { type: 'string', default: d.ep, describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads per worker (default: (cores - 1) / workers, at least 1)' })
    .option('workers', { type: 'number', default: d.workers, describe: 'inference worker threads, one model session each' })
    .option('max-batch', { type: 'number', default: d.maxBatch, describe: 'images per inference run' })
    .option('max-delay-ms', { type: 'number', default: d.maxDelayMs, describe: 'longest wait for a batch to fill' })
    .option('max-body-bytes', { type: 'number', default: d.maxBodyBytes, describe: 'largest image upload (and largest file of a batch upload)' })
    .option('max-queue', { type: 'number', describe: 'images in the server at once (decoding, waiting or running) before 429 [default: 2 x max-batch x workers]' })
    .option('max-wait-ms', { type: 'number', default: d.maxWaitMs, describe: 'expected wait for inference beyond which 429, for a latency budget (0: off, only --max-queue)' })
    .option('max-pixels', { type: 'number', default: d.maxPixels, describe: 'largest width x height decoded (bigger: 422)' })
    .option('web', { type: 'string', describe: 'folder to serve at / (the web demo), with cross-origin isolation headers' })
    .option('auth-token-file', {
      type: 'string',
      defaultDescription: 'no auth',
      describe: 'file of accepted bearer tokens, one per line (# comments); every request then needs Authorization: Bearer TOKEN (401 otherwise), except --auth-open-paths',
    })
    .option('auth-open-paths', {
      type: 'string',
      array: true,
      default: [...DEFAULT_OPEN_PATHS],
      describe: 'paths answered without a token when --auth-token-file is set: exact, or a prefix ending in * (leave /metrics out to require the token for it)',
    })
    .option('cors-origin', {
      type: 'string',
      array: true,
      default: [],
      defaultDescription: 'none',
      describe: 'origin (scheme://host[:port]) whose web pages may call this server; repeat for more; others get no Access-Control-Allow-Origin',
    })
    .option('access-log', { type: 'string', default: '-', describe: 'one JSON line per request (time, id, method, route, status, images, queue/inference/total ms): - for stderr, a file to append to, or off' });
}

/** Serves until SIGTERM or SIGINT, then drains in-flight requests and returns 0. */
export async function serveCommand(args: ServeArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  // Opened first, so a log path that cannot be written stops the server before the model loads.
  const accessLog = openAccessLog(args['access-log']);
  let server: RunningServer | undefined;
  let stopped: (name: NodeJS.Signals) => void = () => {};
  const stopping = new Promise<NodeJS.Signals>((resolve) => (stopped = resolve));
  const onSignal = (name: NodeJS.Signals) => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Nothing can be in flight before the model is loaded, so there is nothing to drain.
    if (!server) {
      say(`${name}: stopping before the model finished loading`);
      process.exit(0);
    }
    stopped(name);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    server = await startServer({
      model: args.model,
      host: args.host,
      port: args.port,
      ep: parseEp(args.ep),
      threads: args.threads,
      workers: args.workers,
      maxBatch: args['max-batch'],
      maxDelayMs: args['max-delay-ms'],
      maxBodyBytes: args['max-body-bytes'],
      maxQueue: args['max-queue'],
      maxWaitMs: args['max-wait-ms'],
      maxPixels: args['max-pixels'],
      web: args.web,
      authTokenFile: args['auth-token-file'],
      authOpenPaths: args['auth-open-paths'],
      corsOrigins: args['cors-origin'],
      accessLog: accessLog?.log,
      log: say,
      onListening: (url) => say(`listening on ${url}; loading the model`),
    });
  } catch (error) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await accessLog?.close();
    throw error;
  }
  say(`ready: POST ${server.url}/v1/classify${args.web ? `, web demo at ${server.url}/` : ''}`);
  const signal = await stopping;
  // A second signal while draining means the operator will not wait: leave at once.
  const impatient = () => process.exit(1);
  process.once('SIGTERM', impatient);
  process.once('SIGINT', impatient);
  say(`${signal}: finishing requests in flight, refusing new ones`);
  await server.close();
  await accessLog?.close();
  process.off('SIGTERM', impatient);
  process.off('SIGINT', impatient);
  say('stopped');
  return 0;
}
