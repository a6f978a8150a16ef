import path from 'node:path';
import type { Argv } from 'yargs';
import { expandInputs, IMAGE_EXTENSIONS } from '../../data/index.ts';
import { DEFAULT_BATCH_SIZE, loadModel, writeFileAtomic } from '../../node/index.ts';
import { DEFAULT_TOP_K, isFailure, parseEp, type PredictionResult } from '../../core/index.ts';
import { toCsv } from '../csv.ts';
import { createProgress } from '../progress.ts';
import { UsageError } from '../errors.ts';
import { examples } from '../examples.ts';
import { integerFlag } from '../flags.ts';

export interface PredictArgs {
  model: string;
  paths: string[];
  'top-k'?: number;
  json: boolean;
  csv?: string;
  ep: string;
  threads?: number;
  'batch-size'?: number;
  'preprocess-workers'?: number;
}

export function predictOptions(yargs: Argv) {
  return yargs
    .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'image files or folders (searched recursively)' })
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('top-k', { type: 'number', requiresArg: true, describe: 'ranked labels per photo, in --json and text output', defaultDescription: `${DEFAULT_TOP_K} in --json, 1 in text` })
    .option('json', { type: 'boolean', default: false, describe: 'print results as JSON on stdout' })
    .option('csv', { type: 'string', requiresArg: true, describe: 'write file,label,score,error rows to this CSV file', defaultDescription: 'none' })
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', requiresArg: true, describe: 'ONNX Runtime intra-op threads', defaultDescription: "ONNX Runtime's choice (the cores)" })
    .option('batch-size', { type: 'number', requiresArg: true, default: DEFAULT_BATCH_SIZE, describe: 'images per ONNX Runtime run (bigger pays on a GPU)' })
    .option('preprocess-workers', { type: 'number', requiresArg: true, describe: 'threads that read, decode and resize photos (0: none, on the main thread)', defaultDescription: 'cores - 1, from 1 to 4' })
    .epilogue(
      examples(
        ['footwear predict --model models/shoes photos/', 'one line per photo: file, label, score'],
        ['footwear predict --model models/shoes photos/ --csv predictions.csv', 'columns file,label,score,error'],
        ['footwear predict --model models/shoes/model.onnx a.jpg b.png --json --top-k 2', 'the two best labels of each, as JSON'],
      ),
    );
}

/** The model's labels can rank at most as many as it has; more is a mistake worth saying. */
function checkTopK(k: number | undefined, labels: readonly string[]): void {
  if (k !== undefined && k > labels.length) throw new UsageError(`--top-k should be at most ${labels.length}, the model's label count (${labels.join(', ')}), got ${k}`);
}

/** Files to classify, in the order given; a folder without images is a mistake, said per folder. */
async function listInputs(paths: string[], onError: (file: string, reason: string) => void, say: (line: string) => void): Promise<string[]> {
  const files: string[] = [];
  const empty: string[] = [];
  for (const input of paths) {
    const found = await expandInputs([input], onError);
    if (found.length === 0) empty.push(input);
    files.push(...found);
  }
  const looked = `looked for ${[...IMAGE_EXTENSIONS].join(' ')} at any depth`;
  if (files.length === 0 && empty.length > 0) throw new UsageError(`no images in ${empty.join(', ')} (${looked})`);
  for (const folder of empty) say(`warning: no images in ${folder} (${looked})`);
  return files;
}

/** One text line: the best label, or the k best when --top-k was given. */
function textLine(result: PredictionResult, k: number | undefined): string {
  if (isFailure(result)) return `${result.file}: error: ${result.error.message}`;
  const ranked = k === undefined ? [result] : result.topK;
  return `${result.file}: ${ranked.map((r) => `${r.label} ${r.score.toFixed(4)}`).join(', ')}`;
}

/** Exits 1 only when some file failed, after predicting all the others. */
export async function predictCommand(args: PredictArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const topK = integerFlag('top-k', args['top-k']);
  const batchSize = integerFlag('batch-size', args['batch-size']);
  const threads = integerFlag('threads', args.threads);
  const preprocessWorkers = integerFlag('preprocess-workers', args['preprocess-workers'], 0);
  const listingErrors: PredictionResult[] = [];
  const files = await listInputs(args.paths, (file, reason) => listingErrors.push({ file, error: { code: 'unreadable', message: reason } }), say);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), threads, log: say });
  checkTopK(topK, classifier.labels);
  const progress = args.json ? undefined : createProgress('predict');
  const results: PredictionResult[] = [...listingErrors];
  let index = 0;
  for await (const result of classifier.classifyFiles(files, {
    batchSize,
    topK: topK ?? Math.min(DEFAULT_TOP_K, classifier.labels.length),
    ...(preprocessWorkers !== undefined && { preprocessWorkers }),
  })) {
    results.push(result);
    progress?.update(++index, files.length);
    if (!args.json && !args.csv) say(textLine(result, topK));
  }
  progress?.stop();
  await classifier.release();
  const failed = results.filter(isFailure).length;
  if (args.csv) {
    await writeFileAtomic(args.csv, toCsv(results));
    say(`wrote ${results.length} rows to ${path.resolve(args.csv)}`);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ model: classifier.modelPath, executionProvider: classifier.executionProvider, labels: classifier.labels, failed, results }, null, 2)}\n`);
  }
  say(`${results.length - failed} predicted, ${failed} failed (execution provider: ${classifier.executionProvider})`);
  return failed > 0 ? 1 : 0;
}
