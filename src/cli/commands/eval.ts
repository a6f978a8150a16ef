import type { Argv } from 'yargs';
import { evaluate, type EvalReport } from '../../eval/index.ts';
import { DEFAULT_BATCH_SIZE, loadModel, parseEp } from '../../infer/index.ts';
import { integerFlag } from '../flags.ts';
import { createProgress } from '../progress.ts';
import { examples } from '../examples.ts';

export interface EvalArgs {
  model: string;
  data: string;
  json: boolean;
  ep: string;
  'batch-size'?: number;
}

export function evalOptions(yargs: Argv) {
  return yargs
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('data', { type: 'string', demandOption: true, requiresArg: true, describe: 'folder-per-class test set (the same class folder names as the training set)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object' })
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('batch-size', { type: 'number', requiresArg: true, describe: 'images per ONNX Runtime run', defaultDescription: String(DEFAULT_BATCH_SIZE) })
    .epilogue(
      examples(
        ['footwear eval --model models/shoes --data photos/test', 'accuracy, per-class precision/recall/F1 and the confusion matrix'],
        ['footwear eval --model models/shoes/model.int8.onnx --data photos/test --json', 'the same for the int8 model, as JSON'],
      ),
    );
}

export function formatReport(r: EvalReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const width = Math.max(...r.labels.map((l) => l.length), 6);
  const lines = [`accuracy ${pct(r.accuracy)} on ${r.n} images (${r.errors.length} unreadable), ${r.seconds.toFixed(1)}s, ${r.executionProvider}`, ''];
  lines.push(`${'class'.padEnd(width)}  precision  recall     f1  support`);
  for (const c of r.perClass) lines.push(`${c.label.padEnd(width)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(6)}  ${pct(c.f1).padStart(6)}  ${String(c.support).padStart(7)}`);
  lines.push('', `confusion (rows = truth): ${r.labels.join(' | ')}`);
  r.confusion.forEach((row, i) => lines.push(`${r.labels[i].padEnd(width)}  ${row.map((v) => String(v).padStart(6)).join(' ')}`));
  return lines.join('\n');
}

export async function evalCommand(args: EvalArgs): Promise<number> {
  const batchSize = integerFlag('batch-size', args['batch-size']);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), log: (l) => process.stderr.write(`${l}\n`) });
  const progress = args.json ? undefined : createProgress('eval');
  const report = await evaluate(classifier, args.data, { batchSize, progress: progress?.update });
  progress?.stop();
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return 0;
}
