import type { Argv } from 'yargs';
import { RUNTIME_HELP, parseEp } from '../core/index.ts';
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
  runtime: string;
  web?: string;
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
    .option('runtime', { type: 'string', default: d.runtime, describe: RUNTIME_HELP })
    .option('web', { type: 'string', describe: 'folder to serve at / (the web demo), with cross-origin isolation headers' });
}

/** Serves until SIGTERM or SIGINT, then drains in-flight requests and returns 0. */
export async function serveCommand(args: ServeArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
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
      web: args.web,
      log: say,
      onListening: (url) => say(`listening on ${url}; loading the model`),
    });
  } catch (error) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
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
  process.off('SIGTERM', impatient);
  process.off('SIGINT', impatient);
  say('stopped');
  return 0;
}
