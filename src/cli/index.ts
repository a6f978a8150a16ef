import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import type yargsType from 'yargs';
import { convertCommand, convertOptions, type ConvertArgs } from './commands/convert.ts';
import { demoCommand, demoOptions } from './commands/demo.ts';
import { doctorCommand, doctorOptions } from './commands/doctor.ts';
import { evalCommand, evalOptions, type EvalArgs } from './commands/eval.ts';
import { predictCommand, predictOptions, type PredictArgs } from './commands/predict.ts';
import { trainCommand, trainOptions, type TrainArgs } from './commands/train.ts';
import { serveCommand, serveOptions, type ServeArgs } from './commands/serve.ts';
import { webCommand, webOptions, type WebArgs } from './commands/web.ts';
import { exportCommand, exportOptions, type ExportArgs } from './commands/export.ts';
import { isUserError } from '../core/index.ts';
import { footwearVersion } from '../node/index.ts';
import { EXIT_USAGE, usageFailure } from './usage.ts';

// yargs' ESM build wraps help text with a stand-in that cuts every N characters, mid-word
// ('feature e / xtraction'); its CommonJS build wraps at word boundaries (wrap-ansi).
const yargs = createRequire(import.meta.url)('yargs') as typeof yargsType;

/** Exit statuses, shown in `footwear --help` and the README. */
export const EXIT_CODES = {
  ok: 0,
  /** A user error (bad input, model or data), or some of the files failed (predict). */
  failed: 1,
  usage: EXIT_USAGE,
  /** A bug: the message carries the stack. */
  internal: 70,
  /** Ctrl-C (SIGINT): 128 + 2, as shells report it. */
  interrupted: 130,
} as const;

export const EXIT_CODES_TEXT =
  'Exit codes: 0 ok; 1 an input, model or setting was wrong, or some files failed; 2 the command line was wrong; 70 internal error (a bug: please report it); 130 interrupted (Ctrl-C)';

type Handler<A> = (args: A) => Promise<number>;

/** Runs a command and turns its outcome into an exit code; user errors print one line, no stack. */
function run<A>(handler: Handler<A>) {
  return async (args: unknown) => {
    try {
      process.exitCode = await handler(args as A);
    } catch (error) {
      if (isUserError(error)) process.stderr.write(`footwear: ${error.message}\n`);
      else process.stderr.write(`footwear: unexpected error (a bug; please report it): ${(error as Error).stack ?? error}\n`);
      process.exitCode = isUserError(error) ? EXIT_CODES.failed : EXIT_CODES.internal;
    }
  };
}

/** Every command: its usage, one line for `footwear --help`, its options and its handler. */
export interface CommandEntry {
  name: string;
  usage: string;
  describe: string;
  // yargs' builder and handler types are generic over the parsed arguments; each entry binds its own.
  builder: (y: Argv) => Argv<unknown>;
  handler: (args: unknown) => Promise<void>;
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'train', usage: 'train', describe: 'fine-tune a classifier on a folder-per-class dataset', builder: trainOptions, handler: run<TrainArgs>(trainCommand) },
  { name: 'convert', usage: 'convert', describe: 'export a trained TF.js model to ONNX', builder: convertOptions, handler: run<ConvertArgs>(convertCommand) },
  { name: 'predict', usage: 'predict <paths..>', describe: 'classify image files or folders', builder: predictOptions, handler: run<PredictArgs>(predictCommand) },
  { name: 'eval', usage: 'eval', describe: 'accuracy, confusion matrix and per-class metrics on a labelled folder', builder: evalOptions, handler: run<EvalArgs>(evalCommand) },
  { name: 'demo', usage: 'demo', describe: 'train, export, evaluate and predict on Fashion-MNIST footwear (built in)', builder: demoOptions, handler: run(demoCommand) },
  { name: 'serve', usage: 'serve', describe: 'HTTP inference server with dynamic micro-batching', builder: serveOptions, handler: run<ServeArgs>(serveCommand) },
  { name: 'web', usage: 'web <action>', describe: 'build a static site that classifies photos in the browser', builder: webOptions, handler: run<WebArgs>(webCommand) },
  { name: 'export', usage: 'export <target>', describe: 'write a model for another serving engine (triton: a Triton model repository)', builder: exportOptions, handler: run<ExportArgs>(exportCommand) },
  { name: 'doctor', usage: 'doctor', describe: 'versions, backends and execution providers available here', builder: doctorOptions, handler: run(doctorCommand) },
];

const COMMANDS = COMMAND_TABLE.map((c) => c.name);

export async function main(argv: string[]): Promise<void> {
  const cli = yargs(argv).scriptName('footwear').usage('$0 <command> [options]');
  for (const c of COMMAND_TABLE) cli.command(c.usage, c.describe, c.builder, c.handler);
  await cli
    .demandCommand(1, `name a command: ${COMMANDS.join(', ')}`)
    .strict()
    .fail((message, error) => {
      // yargs reports its own parse errors (a flag without its value) as a YError; anything else
      // was thrown by our code while building a command, which is a bug.
      if (error instanceof Error && error.name !== 'YError') throw error;
      process.stderr.write(usageFailure(message ?? String(error), argv, COMMANDS));
      process.exit(EXIT_CODES.usage);
    })
    .epilogue(EXIT_CODES_TEXT)
    .version(footwearVersion())
    .help()
    // A terminal's width up to 120 columns; 120 when piped (yargs reports no width then).
    .wrap(Math.min(120, cli.terminalWidth() || 120))
    .parseAsync();
}
