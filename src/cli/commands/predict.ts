import path from 'node:path';
import type { Argv } from 'yargs';
import { expandInputs } from '../../data/index.ts';
import { DEFAULT_BATCH_SIZE, DEFAULT_TOP_K, isFailure, loadModel, parseEp, toCsv, type PredictionResult } from '../../infer/index.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { createProgress } from '../progress.ts';
import { examples } from '../examples.ts';

export interface PredictArgs {
  model: string;
  paths: string[];
  'top-k': number;
  json: boolean;
  csv?: string;
  ep: string;
  threads?: number;
  'batch-size': number;
  'preprocess-workers'?: number;
}

export function predictOptions(yargs: Argv) {
  return yargs
    .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'image files or folders (searched recursively)' })
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('top-k', { type: 'number', requiresArg: true, default: DEFAULT_TOP_K, describe: 'ranked labels per photo in --json' })
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

/** Exits 1 only when some file failed, after predicting all the others. */
export async function predictCommand(args: PredictArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), threads: args.threads, log: say });
  const listingErrors: PredictionResult[] = [];
  const files = await expandInputs(args.paths, (file, reason) => listingErrors.push({ file, error: { code: 'unreadable', message: reason } }));
  const progress = args.json ? undefined : createProgress('predict');
  const results: PredictionResult[] = [...listingErrors];
  let index = 0;
  for await (const result of classifier.classifyFiles(files, {
    batchSize: args['batch-size'],
    topK: args['top-k'],
    ...(args['preprocess-workers'] !== undefined && { preprocessWorkers: args['preprocess-workers'] }),
  })) {
    results.push(result);
    progress?.update(++index, files.length);
    if (!args.json && !args.csv) {
      say(isFailure(result) ? `${result.file}: error: ${result.error.message}` : `${result.file}: ${result.label} ${result.score.toFixed(4)}`);
    }
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
