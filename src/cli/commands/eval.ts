import path from 'node:path';
import type { Argv } from 'yargs';
import { evaluate, type EvalReport } from '../../eval/index.ts';
import { DEFAULT_BATCH_SIZE, loadModel } from '../../node/index.ts';
import { LOCAL_RUNTIME, RUNTIME_HELP, parseEp } from '../../core/index.ts';
import { orderMistakes, percent, writeEvalReport } from '../../report/index.ts';
import { integerFlag, TTA_OPTION, ttaFlag } from '../flags.ts';
import { createProgress } from '../progress.ts';
import { examples } from '../examples.ts';

export interface EvalArgs {
  model: string;
  data: string;
  json: boolean;
  ep: string;
  'batch-size'?: number;
  report?: string;
  runtime: string;
  tta?: string;
}

/** Misclassified files listed in the text output; --json has them all. */
const LISTED_MISTAKES = 20;

export function evalOptions(yargs: Argv) {
  return yargs
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory or .onnx file' })
    .option('data', { type: 'string', demandOption: true, requiresArg: true, describe: 'folder-per-class test set (the same class folder names as the training set)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object' })
    .option('report', {
      type: 'string',
      requiresArg: true,
      describe: 'also write a self-contained HTML report to this file: confusion matrix, calibration, misclassified photos, model card',
      defaultDescription: 'none (no HTML report)',
    })
    .option('ep', { type: 'string', requiresArg: true, default: 'auto', describe: 'execution provider: auto|cpu|cuda' })
    .option('runtime', { type: 'string', requiresArg: true, default: LOCAL_RUNTIME, describe: RUNTIME_HELP })
    .option('batch-size', { type: 'number', requiresArg: true, describe: 'images per ONNX Runtime run', defaultDescription: String(DEFAULT_BATCH_SIZE) })
    .option('tta', TTA_OPTION)
    .epilogue(
      examples(
        ['footwear eval --model models/shoes --data photos/test', 'accuracy, per-class precision/recall/F1 and the confusion matrix'],
        ['footwear eval --model models/shoes --data photos/test --report test.html', 'the same, and an HTML report with the misclassified photos'],
        ['footwear eval --model models/shoes/model.int8.onnx --data photos/test --json', 'the same for the int8 model, as JSON'],
      ),
    );
}

export function formatReport(r: EvalReport): string {
  const width = Math.max(...r.labels.map((l) => l.length), 13);
  const tta = r.tta === 'off' ? '' : `, --tta ${r.tta}`;
  const lines = [`accuracy ${percent(r.accuracy)}, macro-F1 ${percent(r.macroF1)} on ${r.n} images (${r.errors.length} unreadable), ${r.seconds.toFixed(1)}s, ${r.executionProvider}${tta}`, ''];
  // n/a where a ratio has nothing to divide by: a class with no photos has no recall.
  lines.push(`${'class'.padEnd(width)}  precision  recall      f1  support`);
  for (const c of r.perClass) lines.push(`${c.label.padEnd(width)}  ${percent(c.precision).padStart(9)}  ${percent(c.recall).padStart(7)}  ${percent(c.f1).padStart(7)}  ${String(c.support).padStart(7)}`);
  lines.push(`${'macro average'.padEnd(width)}  ${''.padStart(9)}  ${''.padStart(7)}  ${percent(r.macroF1).padStart(7)}  ${String(r.n).padStart(7)}`);
  lines.push('', `confusion (rows = truth): ${r.labels.join(' | ')}`);
  r.confusion.forEach((row, i) => lines.push(`${r.labels[i].padEnd(width)}  ${row.map((v) => String(v).padStart(6)).join(' ')}`));
  if (r.misclassified.length > 0) {
    lines.push('', `misclassified (${r.misclassified.length}, most confident first):`);
    for (const m of orderMistakes(r.misclassified).slice(0, LISTED_MISTAKES)) {
      lines.push(`  ${path.relative(r.data, m.file) || m.file}: ${m.truth} predicted as ${m.predicted} (${percent(m.score)})`);
    }
    const more = r.misclassified.length - LISTED_MISTAKES;
    if (more > 0) lines.push(`  ... and ${more} more (--json lists all)`);
  }
  return lines.join('\n');
}

export async function evalCommand(args: EvalArgs): Promise<number> {
  const batchSize = integerFlag('batch-size', args['batch-size']);
  const tta = ttaFlag(args.tta);
  const classifier = await loadModel(args.model, { ep: parseEp(args.ep), runtime: args.runtime, tta, log: (l) => process.stderr.write(`${l}
`) });
  const progress = args.json ? undefined : createProgress('eval');
  const report = await evaluate(classifier, args.data, { batchSize, progress: progress?.update });
  progress?.stop();
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  if (args.report !== undefined) {
    await writeEvalReport(args.report, report, classifier.spec);
    process.stderr.write(`report: ${args.report}\n`);
  }
  return 0;
}
