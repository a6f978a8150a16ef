import type { Argv } from 'yargs';
import { RUNTIME_HELP, parseEp } from '../../core/index.ts';
import { curlExample, DEFAULT_OPEN_PATHS, listenError, openAccessLog, SERVE_DEFAULTS, startServer, type RunningServer } from '../../serve/index.ts';
import { examples } from '../examples.ts';
import { TTA_OPTION, ttaFlag } from '../flags.ts';

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
  runtime: string;
  web?: string;
  'auth-token-file'?: string;
  'auth-open-paths': string[];
  'cors-origin': string[];
  'access-log': string;
  tta?: string;
}

export function serveOptions(yargs: Argv) {
  const d = SERVE_DEFAULTS;
  return yargs
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('host', { type: 'string', requiresArg: true, default: d.host, describe: 'interface to listen on (0.0.0.0: every interface)' })
    .option('port', { type: 'number', requiresArg: true, default: d.port, describe: 'TCP port (0: any free port)' })
    .option('ep', { type: 'string', requiresArg: true, default: d.ep, describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', requiresArg: true, describe: 'ONNX Runtime intra-op threads per worker', defaultDescription: 'cores / workers, at least 1' })
    .option('workers', { type: 'number', requiresArg: true, default: d.workers, describe: 'inference worker threads, one model session each' })
    .option('max-batch', { type: 'number', requiresArg: true, default: d.maxBatch, describe: 'images per inference run' })
    .option('max-delay-ms', { type: 'number', requiresArg: true, default: d.maxDelayMs, describe: 'longest wait for a batch to fill' })
    .option('max-body-bytes', { type: 'number', requiresArg: true, default: d.maxBodyBytes, describe: 'largest image upload, and largest file of a batch upload (bigger: 413)' })
    .option('max-queue', { type: 'number', requiresArg: true, describe: 'images in the server at once (decoding, waiting or running) before 429', defaultDescription: '2 x max-batch x workers' })
    .option('max-wait-ms', { type: 'number', requiresArg: true, default: d.maxWaitMs, describe: 'expected wait for inference beyond which 429, for a latency budget (0: off, only --max-queue)' })
    .option('max-pixels', { type: 'number', requiresArg: true, default: d.maxPixels, describe: 'largest width x height decoded (bigger: 422)' })
    .option('runtime', { type: 'string', requiresArg: true, default: d.runtime, describe: RUNTIME_HELP })
    .option('tta', { ...TTA_OPTION, describe: `${TTA_OPTION.describe}; applies to every request, and /v1/model says which` })
    .option('web', { type: 'string', requiresArg: true, describe: 'folder to serve at / (from footwear web build), with cross-origin isolation headers', defaultDescription: 'none' })
    .option('auth-token-file', {
      type: 'string',
      requiresArg: true,
      defaultDescription: 'no auth',
      describe: 'file of accepted bearer tokens, one per line (# comments); every request then needs Authorization: Bearer TOKEN (401 otherwise), except --auth-open-paths',
    })
    .option('auth-open-paths', {
      type: 'string',
      array: true,
      default: [...DEFAULT_OPEN_PATHS],
      defaultDescription: DEFAULT_OPEN_PATHS.join(' '),
      describe: 'paths answered without a token when --auth-token-file is set: exact, or a prefix ending in * (leave /metrics out to require the token for it)',
    })
    .option('cors-origin', {
      type: 'string',
      array: true,
      default: [],
      defaultDescription: 'none',
      describe: 'origin (scheme://host[:port]) whose web pages may call this server; repeat for more; others get no Access-Control-Allow-Origin',
    })
    .option('access-log', { type: 'string', requiresArg: true, default: '-', describe: 'one JSON line per request (time, id, method, route, status, images, queue/inference/total ms): - for stderr, a file to append to, or off' })
    .epilogue(
      examples(
        ['footwear serve --model models/shoes', 'then: curl --data-binary @shoe.jpg -H "Content-Type: image/jpeg" http://127.0.0.1:8080/v1/classify'],
        ['footwear serve --model models/shoes --host 0.0.0.0 --port 80 --workers 2', 'every interface, two inference workers'],
        ['footwear serve --model models/shoes --web site', 'also serve the browser demo built by footwear web build at /'],
      ),
    );
}

/** Serves until SIGTERM or SIGINT, then drains in-flight requests and returns 0. */
export async function serveCommand(args: ServeArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const tta = ttaFlag(args.tta);
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
      runtime: args.runtime,
      tta,
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
    throw listenError(error, args.host, args.port) ?? error;
  }
  say(`ready: ${curlExample(server.url)}${args.web ? `; web demo at ${server.url}/` : ''}`);
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
