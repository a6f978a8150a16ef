import type { Argv } from 'yargs';
import { DEFAULT_BATCH_SIZE, loadModel } from '../../node/index.ts';
import { DEFAULT_TOP_K, parseEp } from '../../core/index.ts';
import { planOutputs, runPredict } from '../predict-run.ts';

export interface PredictArgs {
  model: string;
  paths: string[];
  'top-k': number;
  json: boolean;
  csv?: string;
  jsonl?: string;
  resume: boolean;
  shard?: string;
  ep: string;
  threads?: number;
  'batch-size': number;
  'preprocess-workers'?: number;
}

export function predictOptions(yargs: Argv) {
  return yargs
    .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'image files or folders (searched recursively)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory or .onnx file' })
    .option('top-k', { type: 'number', default: DEFAULT_TOP_K })
    .option('json', { type: 'boolean', default: false, describe: 'print results as JSON on stdout' })
    .option('csv', { type: 'string', requiresArg: true, describe: 'write file,label,score,error rows to this CSV file' })
    .option('jsonl', {
      type: 'string',
      // Without it, yargs reads `--jsonl -` as an empty value.
      requiresArg: true,
      defaultDescription: 'off',
      describe: 'write one JSON object per photo to this file (- for stdout) as results are ready, then a {"summary":...} line; the streaming form of --json (memory stays flat at any number of photos). Files (this and --csv) are written as FILE.partial and renamed when done',
    })
    .option('resume', { type: 'boolean', default: false, describe: 'continue the --jsonl/--csv FILE of an earlier run (or its FILE.partial if it was cut short): files with a row are not read again, the rest are appended' })
    .option('shard', {
      type: 'string',
      defaultDescription: 'all',
      describe: 'classify only part I of N (0-based, e.g. 2/8) of the listing, split by a hash of each path below its folder, so N machines or Job pods agree without coordination',
    })
    .option('ep', { type: 'string', default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', describe: 'ONNX Runtime intra-op threads' })
    .option('batch-size', { type: 'number', default: DEFAULT_BATCH_SIZE })
    .option('preprocess-workers', { type: 'number', describe: 'threads that read, decode and resize photos (default: cores - 1, 1 to 4; 0: none)' });
}

/** Exits 1 only when some file failed, after predicting all the others. */
export async function predictCommand(args: PredictArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  // Flags are checked before the model loads, so a mistake costs no wait.
  const outputs = planOutputs(args);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), threads: args.threads, log: say });
  try {
    return await runPredict(
      classifier,
      {
        ...outputs,
        inputs: args.paths,
        topK: args['top-k'],
        batchSize: args['batch-size'],
        ...(args['preprocess-workers'] !== undefined && { preprocessWorkers: args['preprocess-workers'] }),
      },
      say,
    );
  } finally {
    await classifier.release();
  }
}
