import path from 'node:path';
import type { Argv } from 'yargs';
import { parseEp } from '../../core/index.ts';
import { defaultTrainOptions, train, type TrainOptions, type TrainResult } from '../../train/index.ts';
import { createProgress } from '../progress.ts';
import { writeTrainReport } from '../../report/index.ts';
import { FINE_TUNE_FLAGS, fineTuneOptions, type FineTuneArgs } from './fine-tune-flags.ts'; // fine-tune hook

export interface TrainArgs extends FineTuneArgs {
  data: string;
  out?: string;
  backbone: string;
  epochs?: number;
  'batch-size'?: number;
  'learning-rate'?: number;
  'val-split'?: number;
  seed?: number;
  patience?: number;
  flip: boolean;
  export: boolean;
  resume?: string;
  ep: string;
  json: boolean;
}

export function trainOptions(yargs: Argv) {
  return yargs
    .option('data', { type: 'string', demandOption: true, describe: 'dataset folder: one sub-folder of images per class' })
    .option('out', { type: 'string', describe: 'model directory to write (default: models/<data folder name>)' })
    .option('backbone', { type: 'string', default: 'mobilenet', describe: "'mobilenet' (bundled MobileNetV2) or a path to a TF.js LayersModel" })
    .option('epochs', { type: 'number', describe: 'maximum epochs for the head (early stopping may end sooner)' })
    .option('batch-size', { type: 'number' })
    .option('learning-rate', { type: 'number' })
    .option('val-split', { type: 'number', describe: 'fraction of each class held out for validation' })
    .option('seed', { type: 'number' })
    .option('patience', { type: 'number', describe: 'epochs without a better validation loss before stopping' })
    .option('flip', { type: 'boolean', default: false, describe: 'add mirrored copies of the training images (doubles feature extraction)' })
    .option('export', { type: 'boolean', default: true, describe: 'export to ONNX at the end (--no-export to skip)' })
    .option('resume', { type: 'string', describe: 'continue an interrupted run in this model directory' })
    .option('ep', { type: 'string', default: 'auto', describe: 'execution provider for feature extraction: auto|cpu|cuda' })
    .options(FINE_TUNE_FLAGS) // fine-tune hook: --fine-tune [BLOCK], --input-size, ...
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' });
}

export function buildTrainOptions(args: TrainArgs): TrainOptions {
  const out = args.resume ?? args.out ?? path.join('models', path.basename(path.resolve(args.data)));
  const defaults = defaultTrainOptions(args.data, out);
  return {
    ...defaults,
    backbone: args.backbone,
    epochs: args.epochs ?? defaults.epochs,
    batchSize: args['batch-size'] ?? defaults.batchSize,
    learningRate: args['learning-rate'] ?? defaults.learningRate,
    valSplit: args['val-split'] ?? defaults.valSplit,
    seed: args.seed ?? defaults.seed,
    patience: args.patience ?? defaults.patience,
    flipAugment: args.flip,
    export: args.export,
    resume: args.resume !== undefined,
    ep: parseEp(args.ep),
    ...fineTuneOptions(args), // fine-tune hook
  };
}

/** Runs training with progress on stderr; shared by `train` and `demo`. */
export async function runTraining(options: TrainOptions, quiet: boolean): Promise<TrainResult> {
  const bars = new Map<string, ReturnType<typeof createProgress>>();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const result = await train(options, {
      log: say,
      progress(phase, done, total) {
        if (quiet) return;
        if (!bars.has(phase)) bars.set(phase, createProgress(phase));
        bars.get(phase)?.update(done, total);
        if (done === total) bars.get(phase)?.stop();
      },
      epoch(s) {
        const val = s.valLoss !== undefined ? `, val loss ${s.valLoss.toFixed(4)}, val acc ${(s.valAccuracy ?? 0).toFixed(4)}` : '';
        say(`epoch ${s.epoch}: loss ${s.loss.toFixed(4)}, acc ${s.accuracy.toFixed(4)}${val} (${s.seconds.toFixed(1)}s)`);
      },
    });
    // The report presents what training.json holds; written here so the train stage needs no HTML.
    await writeTrainReport(result.modelDir);
    return result;
  } finally {
    for (const bar of bars.values()) bar.stop();
  }
}

export async function trainCommand(args: TrainArgs): Promise<number> {
  const result = await runTraining(buildTrainOptions(args), false);
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stderr.write(
      `trained ${result.labels.length} classes in ${result.seconds.total.toFixed(0)}s; best epoch ${result.bestEpoch}` +
        (result.valAccuracy !== undefined ? `, validation accuracy ${(result.valAccuracy * 100).toFixed(2)}%` : '') +
        `\nmodel: ${result.modelDir}${result.onnx ? ` (ONNX ${result.onnx.path}, max |ONNX - TF.js| ${result.onnx.maxAbsDiff.toExponential(2)})` : ''}\nreport: ${result.report} (curves, confusion matrix, mistakes, model card)\n`,
    );
  }
  return 0;
}
