// Report stage: a self-contained HTML page about a trained model, written beside it after `footwear train`
// (validation split) and on request by `eval --report` (a test folder).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalReport } from '../eval/index.ts';
import { MODEL_FILES, type ModelSpec } from '../core/index.ts';
import type { TrainingRecord } from '../train/index.ts';
import { writeFileAtomic } from '../node/index.ts';
import { runtimeVersions } from '../node/index.ts';
import { escapeHtml } from './format.ts';
import { evalCard, trainCard } from './model-card.ts';
import { renderReport } from './report.ts';

export { renderReport, type ReportInput } from './report.ts';
export { MAX_GALLERY, orderMistakes } from './gallery.ts';
export { percent, lossText } from './format.ts';

/** The report's file name inside a model directory. */
export const REPORT_FILE = MODEL_FILES.report;

function footer(versions: Record<string, string>): string {
  return `Written by footwear ${escapeHtml(versions.footwear)} on ${escapeHtml(new Date().toISOString())}. One self-contained file: no script, nothing fetched.`;
}

/**
 * Writes DIR/report.html for a trained model directory, from its training.json alone (plus the
 * photos for thumbnails); returns the report's path.
 */
export async function writeTrainReport(modelDir: string): Promise<string> {
  const record = JSON.parse(await readFile(path.join(modelDir, MODEL_FILES.record), 'utf8')) as TrainingRecord;
  const file = record.result.report;
  const { config, spec, result } = record;
  const html = await renderReport({
    title: `Training report: ${path.basename(path.resolve(result.modelDir))}`,
    lead: `${spec.labels.length} classes (${spec.labels.join(', ')}) from ${config.data}; the numbers below are on the ${result.validation ? `${result.validation.n} validation photos held out from training` : 'training data only (no validation split)'}.`,
    split: 'validation',
    summary: result.validation,
    curves: { history: result.history, bestEpoch: result.bestEpoch, maxEpochs: config.epochs, patience: config.patience },
    card: trainCard(record),
    root: config.data,
    background: spec.preprocess.background,
    listedIn: path.join(result.modelDir, MODEL_FILES.record),
    footer: footer(result.versions),
  });
  await writeFileAtomic(file, html);
  return file;
}

/** training.json beside an evaluated model, when there is one: it tells what the model was trained on. */
async function trainingBeside(model: string): Promise<TrainingRecord | undefined> {
  const dir = model.endsWith('.onnx') ? path.dirname(model) : model;
  try {
    return JSON.parse(await readFile(path.join(dir, MODEL_FILES.record), 'utf8')) as TrainingRecord;
  } catch {
    return undefined;
  }
}

/** The evaluation report for a test folder, including calibration. */
export async function writeEvalReport(file: string, report: EvalReport, spec: ModelSpec): Promise<void> {
  const versions = runtimeVersions();
  const training = await trainingBeside(report.model);
  const html = await renderReport({
    title: `Evaluation report: ${path.basename(path.resolve(report.data))}`,
    lead: `${path.basename(report.model)} scored on ${report.n} photos in ${report.data}${report.errors.length ? ` (${report.errors.length} unreadable, skipped)` : ''}.`,
    split: 'test',
    summary: report,
    card: evalCard(report, spec, versions, training),
    root: report.data,
    background: spec.preprocess.background,
    listedIn: 'footwear eval --json',
    footer: footer(versions),
  });
  await writeFileAtomic(file, html);
}
