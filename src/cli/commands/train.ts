import path from 'node:path';
import type { Argv } from 'yargs';
import { parseEp } from '../../core/index.ts';
import { defaultTrainOptions, MAX_VIEWS, SMALL_DATA_PHOTOS, SMALL_DATA_VIEWS, train, type TrainOptions, type TrainResult } from '../../train/index.ts';
import { createProgress } from '../progress.ts';
import { writeTrainReport } from '../../report/index.ts';
import { examples } from '../examples.ts';
import { autoOrIntegerFlag } from '../flags.ts';
import { resumeOptions } from './train-resume.ts';
import { FINE_TUNE_FLAGS, fineTuneOptions, type FineTuneArgs } from './fine-tune-flags.ts'; // fine-tune hook

export interface TrainArgs extends FineTuneArgs {
  data?: string;
  out?: string;
  backbone?: string;
  epochs?: number;
  'batch-size'?: string;
  'learning-rate'?: number;
  'val-split'?: number;
  seed?: number;
  patience?: number;
  augment?: string;
  export?: boolean;
  resume?: string;
  ep: string;
  json: boolean;
}

export function trainOptions(yargs: Argv) {
  const d = defaultTrainOptions('', '');
  return yargs
    .option('data', { type: 'string', requiresArg: true, describe: 'dataset folder: one sub-folder of images per class (required, except with --resume)', defaultDescription: "with --resume, the run's" })
    .option('out', { type: 'string', requiresArg: true, describe: 'model directory to write', defaultDescription: 'models/<data folder name>' })
    .option('backbone', { type: 'string', requiresArg: true, describe: "'mobilenet' (the bundled MobileNetV2) or a TF.js LayersModel folder", defaultDescription: d.backbone })
    .option('epochs', { type: 'number', requiresArg: true, describe: 'most epochs for the head (early stopping may end sooner)', defaultDescription: String(d.epochs) })
    .option('batch-size', {
      type: 'string',
      requiresArg: true,
      describe: `feature vectors per step of the head; auto: 64, smaller when the dataset is small (at least 128 steps an epoch)`,
      defaultDescription: String(d.batchSize),
    })
    .option('learning-rate', { type: 'number', requiresArg: true, describe: 'Adam learning rate of the head', defaultDescription: String(d.learningRate) })
    .option('val-split', { type: 'number', requiresArg: true, describe: 'fraction of each class held out for validation (0: none)', defaultDescription: String(d.valSplit) })
    .option('seed', { type: 'number', requiresArg: true, describe: 'seed of the split, shuffling, initialisation and dropout (same seed, same model)', defaultDescription: String(d.seed) })
    .option('patience', { type: 'number', requiresArg: true, describe: 'epochs without a better validation loss before stopping (the best epoch is kept)', defaultDescription: String(d.patience) })
    .option('augment', {
      type: 'string',
      requiresArg: true,
      describe: `views per training photo: 1 the photo, 2 adds its mirror, more add random crops, rotations, colours and backgrounds (each view is one more backbone pass per photo); auto: ${SMALL_DATA_VIEWS} when a class has under ${SMALL_DATA_PHOTOS} training photos, else 1`,
      defaultDescription: String(d.augment),
    })
    .option('export', { type: 'boolean', describe: 'export to ONNX at the end (--no-export skips it)', defaultDescription: String(d.export) })
    .option('resume', {
      type: 'string',
      requiresArg: true,
      describe: 'continue the interrupted run in this model directory with the settings it started with (a flag that differs is an error)',
      defaultDescription: 'none',
    })
    // Returned, not thrown: yargs reports a returned string as a usage error (exit 2).
    .check((argv) => argv.data !== undefined || argv.resume !== undefined || 'missing required option --data (or --resume DIR to continue an interrupted run)')
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider for feature extraction: auto|cpu|cuda' })
    .options(FINE_TUNE_FLAGS) // fine-tune hook: --fine-tune [BLOCK], --input-size, ...
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' })
    .epilogue(
      examples(
        ['footwear train --data photos/train --out models/shoes', 'train on photos/train/<class>/*.jpg, write models/shoes/model.onnx'],
        ['footwear train --data photos/train --epochs 100 --patience 10 --augment 4', 'longer training on 4 views of each photo'],
        ['footwear train --resume models/shoes', 'continue an interrupted run with its own settings'],
      ),
    );
}

/** Options of a new run: the flags given, defaults for the rest. */
export function buildTrainOptions(args: TrainArgs & { data: string }): TrainOptions {
  const out = args.out ?? path.join('models', path.basename(path.resolve(args.data)));
  const defaults = defaultTrainOptions(args.data, out);
  return {
    ...defaults,
    backbone: args.backbone ?? defaults.backbone,
    epochs: args.epochs ?? defaults.epochs,
    batchSize: autoOrIntegerFlag('batch-size', args['batch-size'], 1) ?? defaults.batchSize,
    learningRate: args['learning-rate'] ?? defaults.learningRate,
    valSplit: args['val-split'] ?? defaults.valSplit,
    seed: args.seed ?? defaults.seed,
    patience: args.patience ?? defaults.patience,
    augment: autoOrIntegerFlag('augment', args.augment, 1, MAX_VIEWS) ?? defaults.augment,
    export: args.export ?? defaults.export,
    resume: false,
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

/** What `train` prints at the end (and `demo` after its training). */
export function trainSummary(result: TrainResult): string {
  const accuracy = result.valAccuracy !== undefined ? `, validation accuracy ${(result.valAccuracy * 100).toFixed(2)}%` : '';
  const onnx = result.onnx ? ` (ONNX ${result.onnx.path}, max |ONNX - TF.js| ${result.onnx.maxAbsDiff.toExponential(2)})` : '';
  return [
    `trained ${result.labels.length} classes in ${result.seconds.total.toFixed(0)}s; best epoch ${result.bestEpoch}${accuracy}`,
    `model: ${result.modelDir}${onnx}`,
    `report: ${result.report} (curves, confusion matrix, mistakes, model card)`,
  ].join('\n');
}

/**
 * Ctrl-C leaves the run resumable (settings, saved feature chunks, the last epoch's checkpoint are
 * all on disk, each written atomically), so the interrupt says how to continue and exits 130.
 */
function onInterrupt(out: string): () => void {
  const interrupted = () => {
    process.stderr.write(`\nfootwear: interrupted; ${out} keeps what was done: footwear train --resume ${out} continues\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return () => process.off('SIGINT', interrupted);
}

export async function trainCommand(args: TrainArgs): Promise<number> {
  const ep = parseEp(args.ep);
  const options = args.resume !== undefined ? await resumeOptions({ ...args, resume: args.resume }, ep) : buildTrainOptions({ ...args, data: args.data ?? '' });
  const done = onInterrupt(options.out);
  let result;
  try {
    result = await runTraining(options, false);
  } finally {
    done();
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stderr.write(`${trainSummary(result)}\n`);
  return 0;
}
