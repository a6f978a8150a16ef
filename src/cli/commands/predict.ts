import path from 'node:path';
import type { Argv } from 'yargs';
import { expandInputs } from '../../data/index.ts';
import { DEFAULT_BATCH_SIZE, loadModel } from '../../node/index.ts';
import { DEFAULT_TOP_K, LOCAL_RUNTIME, RUNTIME_HELP, isFailure, parseEp, type PredictionResult } from '../../core/index.ts';
import { toCsv } from '../csv.ts';
import { writeFileAtomic } from '../../node/index.ts';
import { createProgress } from '../progress.ts';

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
  runtime: string;
}

export function predictOptions(yargs: Argv) {
  return yargs
    .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'image files or folders (searched recursively)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory or .onnx file' })
    .option('top-k', { type: 'number', default: DEFAULT_TOP_K })
    .option('json', { type: 'boolean', default: false, describe: 'print results as JSON on stdout' })
    .option('csv', { type: 'string', describe: 'write file,label,score,error rows to this CSV file' })
    .option('ep', { type: 'string', default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads' })
    .option('runtime', { type: 'string', default: LOCAL_RUNTIME, describe: RUNTIME_HELP })
    .option('batch-size', { type: 'number', default: DEFAULT_BATCH_SIZE })
    .option('preprocess-workers', { type: 'number', describe: 'threads that read, decode and resize photos (default: cores - 1, 1 to 4; 0: none)' });
}

/** Exits 1 only when some file failed, after predicting all the others. */
export async function predictCommand(args: PredictArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), threads: args.threads, runtime: args.runtime, log: say });
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
