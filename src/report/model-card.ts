import path from 'node:path';
import type { EvalReport } from '../eval/index.ts';
import type { ModelSpec } from '../core/index.ts';
import type { FineTuneResult, TrainingRecord } from '../train/index.ts';
import { count, escapeHtml, percent, seconds } from './format.ts';

// A model card (Mitchell et al. 2019, cut to what a run knows about itself): what data, what
// model, which settings, how long, with which software, and how the numbers were obtained.

export interface CardRow {
  key: string;
  /** Plain text, escaped when rendered. */
  value: string;
  /** data-card name for readers of the DOM. */
  field?: string;
}

export interface CardSection {
  heading: string;
  rows: CardRow[];
  /** Already-escaped HTML shown under the rows (a table). */
  html?: string;
}

function countsTable(rows: { label: string; counts: number[] }[], columns: string[]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr><th class="row" scope="row">${escapeHtml(r.label)}</th>${r.counts.map((n, i) => `<td data-count="${escapeHtml(`${r.label}:${columns[i]}`)}">${count(n)}</td>`).join('')}</tr>`).join('');
  return `<table class="counts"><thead><tr><th class="row">class</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function modelRows(spec: ModelSpec): CardRow[] {
  const p = spec.preprocess;
  return [
    { key: 'backbone', value: spec.backbone?.name === 'mobilenet' ? 'MobileNetV2 1.0 (ImageNet weights, frozen)' : (spec.backbone?.name ?? 'unknown'), field: 'backbone' },
    { key: 'features from', value: spec.backbone?.cut.split('+').join(' + ') ?? 'unknown', field: 'cut' },
    { key: 'input', value: `${p.width} x ${p.height} RGB, ${p.resize === 'contain' ? `aspect kept, padded with rgb(${p.background.join(', ')})` : 'stretched'}, pixels scaled to [${p.range.join(', ')}]`, field: 'input' },
    { key: 'classes', value: spec.labels.join(', '), field: 'labels' },
  ];
}

function versionRows(versions: Record<string, string>): CardRow[] {
  return Object.entries(versions).map(([k, v]) => ({ key: k, value: v }));
}

/** What `--fine-tune` did, when it was given (src/train/fine-tune/). */
/** Older records (before --augment) have no `data`: they trained on the photos alone. */
function views(augment: number | undefined): string {
  return augment !== undefined && augment > 1 ? `${augment}: the photo, its mirror and random crops, colours, backgrounds (--augment)` : '1: the photo alone';
}

function fineTuneRows(ft: FineTuneResult['fineTune'] | undefined): CardRow[] {
  if (!ft) return [];
  const { settings, cut, warmUp } = ft;
  return [
    {
      key: 'fine-tuning',
      value:
        `${settings.from} and up (${count(cut.trainableWeights)} weights) trained on cached ${cut.layer} activations after the head's warm-up ` +
        `(${warmUp.epochs} epochs, validation ${percent(warmUp.valAccuracy)}); Adam at ${settings.learningRate} (blocks) and ${settings.headLearningRate} (head), ` +
        `batch normalisation statistics frozen; ${ft.epochs} epochs of at most ${settings.epochs}, best ${ft.bestEpoch} restored (patience ${settings.patience})`,
      field: 'fine-tune',
    },
  ];
}

/** The card of a training run, made only from what training.json records. */
export function trainCard(record: TrainingRecord): CardSection[] {
  const { config, spec, result } = record;
  const trainTotal = result.classCounts.reduce((a, c) => a + c.train, 0);
  const valTotal = result.classCounts.reduce((a, c) => a + c.validation, 0);
  const ran = result.history.length ? result.history[result.history.length - 1].epoch : 0;
  const checks: CardRow[] = [];
  if (result.validation) {
    checks.push({
      key: 'validation',
      value:
        `${valTotal} photos (${Math.round(config.valSplit * 100)}% of each class, seeded split, seed ${config.seed}) held out from fitting and scored by the restored head; ` +
        'they also chose the epoch to keep, so their numbers lean optimistic: check on a separate test folder with footwear eval --report.',
      field: 'validation',
    });
  } else checks.push({ key: 'validation', value: 'none (--val-split 0): no held-out numbers; the epoch with the lowest training loss was kept.', field: 'validation' });
  checks.push({
    key: 'ONNX export',
    value: result.onnx ? `${path.basename(result.onnx.path)} run against the TF.js model on random inputs and validation photos: largest probability difference ${result.onnx.maxAbsDiff.toExponential(2)}` : 'not exported (--no-export)',
    field: 'export-check',
  });
  checks.push({ key: 'duplicates', value: result.duplicates.length ? `${result.duplicates.length} image(s) filed under more than one class (listed in training.json)` : 'no image appears under two classes' });
  if (result.skipped.length) checks.push({ key: 'skipped', value: `${result.skipped.length} unreadable file(s), first: ${result.skipped[0].file}: ${result.skipped[0].reason}` });
  return [
    {
      heading: 'Data',
      rows: [
        { key: 'folder', value: config.data, field: 'data' },
        { key: 'photos', value: `${count(trainTotal)} train, ${count(valTotal)} validation`, field: 'photos' },
      ],
      html: countsTable(
        result.classCounts.map((c) => ({ label: c.label, counts: [c.train, c.validation] })),
        ['train', 'validation'],
      ),
    },
    {
      heading: 'Model',
      rows: [
        ...modelRows(spec),
        { key: 'head', value: `dropout ${config.dropout}, then one softmax layer (L2 1e-4) on standardised pooled features`, field: 'head' },
        { key: 'model directory', value: result.modelDir, field: 'model' },
      ],
    },
    {
      heading: 'Settings',
      rows: [
        { key: 'epochs', value: `${ran} run of at most ${config.epochs}, best ${result.bestEpoch} restored (patience ${config.patience})`, field: 'epochs' },
        ...fineTuneRows((result as Partial<FineTuneResult>).fineTune),
        { key: 'batch size', value: String(result.data?.batchSize ?? config.batchSize) },
        { key: 'learning rate', value: String(config.learningRate) },
        { key: 'validation split', value: String(config.valSplit) },
        { key: 'seed', value: String(config.seed) },
        { key: 'views per training photo', value: views(result.data?.augment) },
        { key: 'class weights', value: 'balanced (each class counts equally in the loss)' },
      ],
    },
    {
      heading: 'Time and place',
      rows: [
        { key: 'trained', value: spec.createdAt ?? 'unknown', field: 'created' },
        { key: 'total', value: seconds(result.seconds.total), field: 'seconds' },
        { key: 'features', value: `${seconds(result.seconds.features)} (ONNX Runtime, ${result.executionProvider})` },
        { key: 'head', value: `${seconds(result.seconds.head)} (TF.js ${result.tfBackend})` },
        { key: 'export', value: seconds(result.seconds.export) },
      ],
    },
    { heading: 'Versions', rows: versionRows(result.versions) },
    { heading: 'How it was checked', rows: checks },
  ];
}

/** The card of an evaluation: the test data and run, plus the training record when one is beside the model. */
export function evalCard(report: EvalReport, spec: ModelSpec, versions: Record<string, string>, training?: TrainingRecord): CardSection[] {
  const trainedRows: CardRow[] = training
    ? [
        { key: 'trained on', value: `${training.config.data} (${training.result.classCounts.reduce((a, c) => a + c.train, 0)} photos)`, field: 'trained-on' },
        { key: 'validation accuracy', value: percent(training.result.validation?.accuracy ?? training.result.valAccuracy), field: 'validation-accuracy' },
        { key: 'trained', value: training.spec.createdAt ?? 'unknown' },
      ]
    : [{ key: 'training record', value: 'none found beside the model (training.json)' }];
  const checks: CardRow[] = [
    {
      key: 'method',
      value: `every photo under ${report.data} classified by ${path.basename(report.model)} the way footwear predict does; truth is the class folder a photo sits in.`,
      field: 'method',
    },
    { key: 'unreadable', value: report.errors.length ? `${report.errors.length} file(s) skipped, first: ${report.errors[0].file}: ${report.errors[0].message}` : 'none', field: 'unreadable' },
  ];
  return [
    {
      heading: 'Test data',
      rows: [
        { key: 'folder', value: report.data, field: 'data' },
        { key: 'photos', value: `${count(report.n)} scored`, field: 'photos' },
      ],
      html: countsTable(
        report.perClass.map((c) => ({ label: c.label, counts: [c.support] })),
        ['test'],
      ),
    },
    { heading: 'Model', rows: [{ key: 'file', value: report.model, field: 'model' }, ...modelRows(spec), ...trainedRows] },
    {
      heading: 'Run',
      rows: [
        { key: 'evaluated', value: new Date().toISOString(), field: 'created' },
        { key: 'time', value: seconds(report.seconds), field: 'seconds' },
        { key: 'execution provider', value: report.executionProvider },
        { key: 'test-time augmentation', value: report.tta, field: 'tta' },
      ],
    },
    { heading: 'Versions', rows: versionRows(versions) },
    { heading: 'How it was checked', rows: checks },
  ];
}

export function renderCard(sections: readonly CardSection[]): string {
  const blocks = sections.map(
    (s) =>
      `<div><h3>${escapeHtml(s.heading)}</h3><dl class="card">${s.rows.map((r) => `<dt>${escapeHtml(r.key)}</dt><dd${r.field ? ` data-card="${escapeHtml(r.field)}"` : ''}>${escapeHtml(r.value)}</dd>`).join('')}</dl>${s.html ?? ''}</div>`,
  );
  return `<div class="cards">${blocks.join('')}</div>`;
}
