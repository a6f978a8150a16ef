import yargs from 'yargs';
import { convertCommand, convertOptions, type ConvertArgs } from './commands/convert.ts';
import { demoCommand, demoOptions } from './commands/demo.ts';
import { doctorCommand, doctorOptions } from './commands/doctor.ts';
import { evalCommand, evalOptions, type EvalArgs } from './commands/eval.ts';
import { predictCommand, predictOptions, type PredictArgs } from './commands/predict.ts';
import { trainCommand, trainOptions, type TrainArgs } from './commands/train.ts';
import { serveCommand, serveOptions, type ServeArgs } from '../serve/command.ts';
import { webCommand, webOptions, type WebArgs } from '../web/index.ts';
import { exportCommand, exportOptions, type ExportArgs } from '../deploy/index.ts';
import { isUserError } from '../core/index.ts';
import { footwearVersion } from '../node/index.ts';

type Handler<A> = (args: A) => Promise<number>;

/** Runs a command and turns its outcome into an exit code; user errors print one line, no stack. */
function run<A>(handler: Handler<A>) {
  return async (args: unknown) => {
    try {
      process.exitCode = await handler(args as A);
    } catch (error) {
      if (isUserError(error)) process.stderr.write(`footwear: ${error.message}\n`);
      else process.stderr.write(`footwear: unexpected error: ${(error as Error).stack ?? error}\n`);
      process.exitCode = isUserError(error) ? 1 : 70;
    }
  };
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName('footwear')
    .usage('$0 <command> [options]')
    .command('train', 'fine-tune a classifier on a folder-per-class dataset', trainOptions, run<TrainArgs>(trainCommand))
    .command('convert', 'export a trained TF.js model to ONNX', convertOptions, run<ConvertArgs>(convertCommand))
    .command('predict <paths..>', 'classify image files or folders', predictOptions, run<PredictArgs>(predictCommand))
    .command('eval', 'accuracy, confusion matrix and per-class metrics on a labelled folder', evalOptions, run<EvalArgs>(evalCommand))
    .command('demo', 'train, export, evaluate and predict on Fashion-MNIST footwear (built in)', demoOptions, run(demoCommand))
    .command('serve', 'HTTP inference server with dynamic micro-batching', serveOptions, run<ServeArgs>(serveCommand))
    .command('web <action>', 'build a static site that classifies photos in the browser', webOptions, run<WebArgs>(webCommand))
    .command('export <target>', 'write a model for another serving engine (triton: a Triton model repository)', exportOptions, run<ExportArgs>(exportCommand))
    .command('doctor', 'versions, backends and execution providers available here', doctorOptions, run(doctorCommand))
    .demandCommand(1, 'name a command: train, convert, predict, eval, serve, web, export, demo or doctor')
    .strict()
    .fail((message, error, y) => {
      if (error) throw error;
      process.stderr.write(`${y.help()}\n\nfootwear: ${message}\n`);
      process.exit(2);
    })
    .version(footwearVersion())
    .help()
    .parseAsync();
}
