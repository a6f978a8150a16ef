import type { Argv } from 'yargs';
import { DEFAULT_BATCH_SIZE } from '../../src/node/index.ts';
import { parseEp } from '../../src/core/index.ts';
import { DEFAULT_BATCH_SIZES, DEFAULT_IMAGES, DEFAULT_ROUNDS } from './defaults.ts';

export interface BenchArgs {
  model: string;
  data: string;
  images: number;
  'baseline-images'?: number;
  'batch-sizes': string;
  'batch-size': number;
  rounds: number;
  ep: string;
  threads?: number;
  tfjs: boolean;
  'ort-web': boolean;
  json: boolean;
  write: boolean;
}

export function benchOptions(yargs: Argv) {
  return yargs
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model folder (model.onnx, tfjs/, model.int8.onnx, model.fp16.onnx) or .onnx file' })
    .option('data', { type: 'string', demandOption: true, requiresArg: true, describe: 'folder of photos (searched recursively)' })
    .option('images', { type: 'number', requiresArg: true, default: DEFAULT_IMAGES, describe: 'photos timed per ONNX Runtime row' })
    .option('baseline-images', { type: 'number', requiresArg: true, describe: 'photos timed by the TF.js and onnxruntime-web rows', defaultDescription: 'min(images, 100)' })
    .option('batch-sizes', { type: 'string', requiresArg: true, default: DEFAULT_BATCH_SIZES.join(','), describe: 'raw ONNX Runtime batch sweep, e.g. 1,32,128 on a GPU' })
    .option('batch-size', { type: 'number', requiresArg: true, default: DEFAULT_BATCH_SIZE, describe: 'batch size of the predict and TF.js rows' })
    .option('rounds', { type: 'number', requiresArg: true, default: DEFAULT_ROUNDS, describe: 'alternating predict / raw rounds behind the goal ratio' })
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('threads', { type: 'number', requiresArg: true, describe: 'ONNX Runtime intra-op threads', defaultDescription: "ONNX Runtime's choice" })
    .option('tfjs', { type: 'boolean', default: true, describe: 'time TF.js doing the same job (--no-tfjs skips it)' })
    .option('ort-web', { type: 'boolean', default: true, describe: 'time onnxruntime-web wasm in Node (--no-ort-web skips it)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object on stdout' })
    .option('write', { type: 'boolean', default: false, describe: 'rewrite the "## Inference" section of BENCHMARKS.md' })
    .example('npm run bench:infer -- --model models/shoes --data photos/test', 'raw ONNX Runtime, predict, TF.js and onnxruntime-web on the same photos')
    .example('npm run bench:infer -- --model models/shoes --data photos/test --ep cuda --batch-sizes 1,32,128 --no-tfjs', 'a GPU sweep');
}

function parseSizes(text: string): number[] {
  return text.split(',').map((part) => {
    const size = Number(part.trim());
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`--batch-sizes should list positive integers, got "${text}"`);
    return size;
  });
}

/** The command line as typed after the program name, for the report (quoted where needed). */
function commandLine(): string {
  const quote = (arg: string) => (/^[\w./=:,@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ['npm run bench:infer --', ...process.argv.slice(2).map(quote)].join(' ');
}

export async function benchCommand(args: BenchArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  for (const flag of ['images', 'baseline-images', 'batch-size', 'rounds', 'threads'] as const) {
    const value = args[flag];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new RangeError(`--${flag} should be a positive integer, got ${value}`);
  }
  const { runBench } = await import('./run.ts');
  const { formatText, writeReport } = await import('./report.ts');
  const report = await runBench({
    model: args.model,
    data: args.data,
    images: args.images,
    ...(args['baseline-images'] !== undefined && { baselineImages: args['baseline-images'] }),
    batchSizes: parseSizes(args['batch-sizes']),
    batchSize: args['batch-size'],
    rounds: args.rounds,
    ep: parseEp(args.ep),
    ...(args.threads !== undefined && { threads: args.threads }),
    tfjs: args.tfjs,
    ortWeb: args['ort-web'],
    command: commandLine(),
    log: say,
  });
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatText(report)}\n`);
  if (args.write) say(`wrote ${(await writeReport(report)).join(' and ')} in BENCHMARKS.md`);
  return 0;
}
