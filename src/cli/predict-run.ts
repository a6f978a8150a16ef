import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isFailure, type PredictionResult } from '../core/index.ts';
import { describeInputs, IMAGE_EXTENSIONS, listInputs, parseShard, SkipTally, type Shard } from '../data/index.ts';
import type { Classifier, FileEntry } from '../node/index.ts';
import { createCounter } from './counter.ts';
import { UsageError } from './errors.ts';
import { OutputWriter, partialPath, resumeSource, type OutputTarget } from './predict-output.ts';
import { DoneFiles, scanOutput } from './resume.ts';

// `footwear predict` at catalogue scale: the listing is streamed through the classifier and each
// result goes straight to its output, so memory stays flat whatever the number of photos
// (--json, one document at the end, is the exception: it keeps every result).

export interface PredictPlan {
  inputs: string[];
  topK: number;
  /** Ranked labels on each text line (--top-k as given); the best one when unset. */
  textTopK?: number;
  batchSize: number;
  preprocessWorkers?: number;
  /** Print every result as one JSON document at the end. */
  json: boolean;
  /** Stream rows here (--jsonl or --csv). */
  output?: OutputTarget;
  resume: boolean;
  shard?: Shard;
}

export interface PredictFlags {
  json: boolean;
  csv?: string;
  jsonl?: string;
  resume: boolean;
  shard?: string;
}

/** The outputs the flags ask for, or the one line that says why they cannot go together. */
export function planOutputs(flags: PredictFlags): Pick<PredictPlan, 'json' | 'output' | 'resume' | 'shard'> {
  if (flags.jsonl !== undefined && flags.csv !== undefined) throw new UsageError('--jsonl and --csv both write the rows; pick one (--jsonl keeps top-k, --csv is for spreadsheets)');
  if (flags.jsonl !== undefined && flags.json) throw new UsageError('--jsonl and --json both print results; pick one (--jsonl streams, --json keeps every result for one document at the end)');
  for (const [flag, value] of [['--jsonl', flags.jsonl], ['--csv', flags.csv]] as const) {
    if (value === '') throw new UsageError(`${flag} needs a file name, or - for stdout`);
  }
  const output: OutputTarget | undefined =
    flags.jsonl !== undefined ? { format: 'jsonl', path: flags.jsonl, flag: '--jsonl' } : flags.csv !== undefined ? { format: 'csv', path: flags.csv, flag: '--csv' } : undefined;
  if (flags.resume && (!output || output.path === '-')) throw new UsageError('--resume continues an output file: give --jsonl FILE or --csv FILE (not -)');
  if (flags.resume && flags.json) throw new UsageError('--resume and --json cannot go together: --json prints only this run\'s results; use --jsonl FILE');
  let shard: Shard | undefined;
  if (flags.shard !== undefined) {
    shard = parseShard(flags.shard);
    if (!shard) throw new UsageError(`--shard should be I/N with 0 <= I < N (0-based: --shard 0/4 ... --shard 3/4), got "${flags.shard}"`);
  }
  return { json: flags.json, output, resume: flags.resume, shard };
}

/** One text line: the best label, or the k best when --top-k was given. */
function textLine(result: PredictionResult, k: number | undefined): string {
  if (isFailure(result)) return `${result.file}: error: ${result.error.message}`;
  const ranked = k === undefined ? [result] : result.topK;
  return `${result.file}: ${ranked.map((r) => `${r.label} ${r.score.toFixed(4)}`).join(', ')}`;
}

const failureOf = (file: string, reason: string): FileEntry => ({ file, error: { code: 'unreadable', message: reason } });

/** Runs a plan on a loaded classifier; exits 1 when some listed file failed (earlier rows of a resumed output included). */
export async function runPredict(classifier: Classifier, plan: PredictPlan, say: (line: string) => void): Promise<number> {
  const started = performance.now();
  const { tta } = classifier;
  // Rows record a --tta other than off, so a resume can refuse another setting and a reader can tell.
  const output = plan.output && (tta === 'off' ? plan.output : { ...plan.output, tta });
  const roots = await describeInputs(plan.inputs);
  let done: DoneFiles | undefined;
  let before = { rows: 0, failed: 0 };
  let resume: { keep: number; header: boolean } | undefined;
  if (output && plan.resume) {
    const source = await resumeSource(output.path);
    if (!source) {
      say(`${output.flag} ${output.path}: nothing to resume yet; starting from the beginning`);
    } else {
      const scan = await scanOutput(source.file, output.format, roots, output.flag, tta);
      done = await DoneFiles.open(source.file, output.format, scan, roots);
      before = scan;
      resume = scan;
      say(`resuming ${source.file}: ${scan.rows} rows there already (${scan.failed} failed); their files are not read again`);
    }
  } else if (output && output.path !== '-' && (await stat(partialPath(output.path)).catch(() => undefined))) {
    say(`${partialPath(output.path)} from an earlier run is started afresh (--resume would continue it)`);
  }

  const skipped = new SkipTally();
  let alreadyDone = 0;
  async function* entries(): AsyncGenerator<FileEntry> {
    for await (const entry of listInputs(plan.inputs, { shard: plan.shard, onSkip: (_file, extension) => skipped.add(extension) })) {
      if (done && (await done.has(entry))) {
        alreadyDone++;
        continue;
      }
      yield entry.error === undefined ? entry.file : failureOf(entry.file, entry.error);
    }
  }

  let writer: OutputWriter | undefined;
  const results: PredictionResult[] = [];
  let predicted = 0;
  let failed = 0;
  const counter = output && !plan.json ? createCounter('predict') : undefined;
  try {
    writer = output && (await OutputWriter.open(output, resume));
    for await (const result of classifier.classifyStream(entries(), {
      batchSize: plan.batchSize,
      topK: plan.topK,
      ...(plan.preprocessWorkers !== undefined && { preprocessWorkers: plan.preprocessWorkers }),
    })) {
      if (isFailure(result)) failed++;
      else predicted++;
      if (writer) await writer.write(result);
      if (plan.json) results.push(result);
      else if (!writer) say(textLine(result, plan.textTopK));
      counter?.update(predicted + failed);
    }
  } catch (error) {
    // What was written stays in FILE.partial for --resume.
    await writer?.abandon();
    throw error;
  } finally {
    counter?.stop();
    await done?.close();
  }

  // Nothing listed at all is a mistake (a wrong folder), not "0 predicted".
  if (predicted + failed + alreadyDone === 0 && !plan.shard && before.rows === 0) {
    await writer?.abandon();
    const looked = skipped.total > 0 ? `; skipped ${skipped.total} file(s) whose names are not images' (${skipped.describe()})` : '';
    throw new UsageError(`no images in ${plan.inputs.join(', ')} (looked for ${[...IMAGE_EXTENSIONS].join(' ')} at any depth${looked})`);
  }
  const total = { predicted: before.rows - before.failed + predicted, failed: before.failed + failed };
  const shard = plan.shard ? { index: plan.shard.index, count: plan.shard.count } : null;
  // This run's own rate: the photos it read (rows already there from an earlier run are not), over
  // the time from the first listing to the last result, the model's load excluded.
  const seconds = (performance.now() - started) / 1000;
  const rate = { seconds: Number(seconds.toFixed(3)), photosPerSecond: Number(((predicted + failed) / seconds).toFixed(1)) };
  const about = { model: classifier.modelPath, executionProvider: classifier.executionProvider, labels: classifier.labels, tta };
  await writer?.finish({ ...about, ...total, ...rate, resumedRows: before.rows, skipped: skipped.toJSON(), shard });
  if (writer && output && output.path !== '-') {
    say(`wrote ${writer.written} rows to ${path.resolve(output.path)}${before.rows > 0 ? `, after the ${before.rows} already there` : ''}`);
  }
  if (plan.json) {
    process.stdout.write(`${JSON.stringify({ ...about, failed, ...rate, skipped: skipped.toJSON(), results }, null, 2)}\n`);
  }
  if (skipped.total > 0) {
    say(`skipped ${skipped.total} file(s) in folders whose names are not images' (${skipped.describe()}); folders are searched for ${[...IMAGE_EXTENSIONS].join(' ')} (name a file to classify it anyway)`);
  }
  if (alreadyDone > 0) say(`${alreadyDone} listed file(s) already had a row, not read again`);
  if (shard) say(`shard ${shard.index}/${shard.count}: ${predicted + failed + alreadyDone} listed files are this shard's`);
  const augmented = tta === 'off' ? '' : `; --tta ${tta}`;
  say(`${total.predicted} predicted, ${total.failed} failed in ${seconds.toFixed(1)} s (${rate.photosPerSecond} photos/s; execution provider: ${classifier.executionProvider}${augmented})`);
  return total.failed > 0 ? 1 : 0;
}
