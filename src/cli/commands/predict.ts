import type { Argv } from 'yargs';
import { IMAGE_EXTENSIONS, listInputs } from '../../data/index.ts';
import { DEFAULT_BATCH_SIZE, loadModel } from '../../node/index.ts';
import { DEFAULT_TOP_K, LOCAL_RUNTIME, RUNTIME_HELP, parseEp } from '../../core/index.ts';
import { UsageError } from '../errors.ts';
import { examples } from '../examples.ts';
import { integerFlag, TTA_OPTION, ttaFlag } from '../flags.ts';
import { planOutputs, runPredict } from '../predict-run.ts';

export interface PredictArgs {
  model: string;
  paths: string[];
  'top-k'?: number;
  json: boolean;
  csv?: string;
  jsonl?: string;
  resume: boolean;
  shard?: string;
  ep: string;
  threads?: number;
  'batch-size'?: number;
  'preprocess-workers'?: number;
  runtime: string;
  tta?: string;
}

export function predictOptions(yargs: Argv) {
  return yargs
    .positional('paths', { type: 'string', array: true, demandOption: true, describe: 'image files or folders (searched recursively)' })
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('top-k', { type: 'number', requiresArg: true, describe: 'ranked labels per photo, in --json, --jsonl and text output', defaultDescription: `${DEFAULT_TOP_K} in --json/--jsonl, 1 in text` })
    .option('json', { type: 'boolean', default: false, describe: 'print every result as one JSON document on stdout at the end' })
    .option('csv', { type: 'string', requiresArg: true, describe: 'write file,label,score,error rows to this CSV file (- for stdout) as results are ready', defaultDescription: 'none' })
    .option('jsonl', {
      type: 'string',
      // Without it, yargs reads `--jsonl -` as an empty value.
      requiresArg: true,
      defaultDescription: 'none',
      describe: 'write one JSON object per photo to this file (- for stdout) as results are ready, then a {"summary":...} line; the streaming form of --json (memory stays flat at any number of photos). Files (this and --csv) are written as FILE.partial and renamed when done',
    })
    .option('resume', { type: 'boolean', default: false, describe: 'continue the --jsonl/--csv FILE of an earlier run (or its FILE.partial if it was cut short): files with a row are not read again, the rest are appended' })
    .option('shard', {
      type: 'string',
      requiresArg: true,
      defaultDescription: 'all',
      describe: 'classify only part I of N (0-based, e.g. 2/8) of the listing, split by a hash of each path below its folder, so N machines or Job pods agree without coordination',
    })
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', requiresArg: true, describe: 'ONNX Runtime intra-op threads', defaultDescription: "ONNX Runtime's choice (the cores)" })
    .option('runtime', { type: 'string', requiresArg: true, default: LOCAL_RUNTIME, describe: RUNTIME_HELP })
    .option('batch-size', { type: 'number', requiresArg: true, default: DEFAULT_BATCH_SIZE, describe: 'images per ONNX Runtime run (bigger pays on a GPU)' })
    .option('tta', TTA_OPTION)
    .option('preprocess-workers', { type: 'number', requiresArg: true, describe: 'threads that read, decode and resize photos (0: none, on the main thread)', defaultDescription: 'cores - 1, from 1 to 4' })
    .epilogue(
      examples(
        ['footwear predict --model models/shoes photos/', 'one line per photo: file, label, score'],
        ['footwear predict --model models/shoes catalogue/ --jsonl out.jsonl --shard 3/8 --resume', 'one of 8 machines, streaming rows, continuing where it stopped'],
        ['footwear predict --model models/shoes/model.onnx a.jpg b.png --json --top-k 2', 'the two best labels of each, as JSON'],
      ),
    );
}

/**
 * A folder with no image in it is a mistake worth saying before any model loads: an error when it
 * is all there is, a warning beside other inputs. Each folder's walk stops at its first image, so
 * this costs nothing at catalogue scale.
 */
async function checkFoldersHaveImages(paths: string[], say: (line: string) => void): Promise<void> {
  const empty: string[] = [];
  for (const input of paths) {
    let found = false;
    for await (const entry of listInputs([input])) {
      found = entry !== undefined;
      break;
    }
    if (!found) empty.push(input);
  }
  const looked = `looked for ${[...IMAGE_EXTENSIONS].join(' ')} at any depth`;
  if (empty.length === paths.length) throw new UsageError(`no images in ${empty.join(', ')} (${looked})`);
  for (const folder of empty) say(`warning: no images in ${folder} (${looked})`);
}

/** Exits 1 only when some file failed, after predicting all the others. */
export async function predictCommand(args: PredictArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  // Flags are checked before the model loads, so a mistake costs no wait.
  const topK = integerFlag('top-k', args['top-k']);
  const batchSize = integerFlag('batch-size', args['batch-size']) ?? DEFAULT_BATCH_SIZE;
  const threads = integerFlag('threads', args.threads);
  const preprocessWorkers = integerFlag('preprocess-workers', args['preprocess-workers'], 0);
  const tta = ttaFlag(args.tta);
  const outputs = planOutputs(args);
  await checkFoldersHaveImages(args.paths, say);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), threads, runtime: args.runtime, log: say, tta });
  try {
    // The model's labels can rank at most as many as it has; more is a mistake worth saying.
    const { labels } = classifier;
    if (topK !== undefined && topK > labels.length) throw new UsageError(`--top-k should be at most ${labels.length}, the model's label count (${labels.join(', ')}), got ${topK}`);
    return await runPredict(
      classifier,
      {
        ...outputs,
        inputs: args.paths,
        topK: topK ?? Math.min(DEFAULT_TOP_K, labels.length),
        textTopK: topK,
        batchSize,
        ...(preprocessWorkers !== undefined && { preprocessWorkers }),
      },
      say,
    );
  } finally {
    await classifier.release();
  }
}
