import { discoverDataset } from '../data/index.ts';
import type { Classifier } from '../node/index.ts';
import type { PredictionResult } from '../core/index.ts';
import { UserError } from '../core/index.ts';
import { summarizePredictions, type ScoredPhoto, type ScoredSummary } from './summary.ts';

export { computeMetrics, type EvalMetrics, type ClassMetrics } from './metrics.ts';
export { computeCalibration, CALIBRATION_BINS, type Calibration, type CalibrationBin } from './calibration.ts';
export { summarizePredictions, type ScoredPhoto, type ScoredSummary, type Mistake } from './summary.ts';

export interface EvalReport extends ScoredSummary {
  model: string;
  data: string;
  executionProvider: string;
  /** The test-time augmentation the photos got ('off', 'mirror', or a view count). */
  tta: string;
  errors: { file: string; message: string }[];
  seconds: number;
}

export class EvalError extends UserError {
  override name = 'EvalError';
}

/**
 * Scores a classifier on a folder-per-class dataset. Class folders are matched to the model's
 * labels by name; a folder the model does not know is an error, not a silent zero.
 */
export async function evaluate(classifier: Classifier, data: string, options: { batchSize?: number; progress?: (done: number, total: number) => void } = {}): Promise<EvalReport> {
  const started = Date.now();
  const dataset = await discoverDataset(data, { minClasses: 1 });
  const unknown = dataset.labels.filter((l) => !classifier.labels.includes(l));
  if (unknown.length > 0) {
    throw new EvalError(`${data}: class folder(s) ${unknown.join(', ')} are not among the model's labels (${classifier.labels.join(', ')})`);
  }
  const truthOf = new Map(dataset.samples.map((s) => [s.file, classifier.labels.indexOf(dataset.labels[s.label])]));
  const photos: ScoredPhoto[] = [];
  const errors: EvalReport['errors'] = [];
  const files = dataset.samples.map((s) => s.file);
  let done = 0;
  for await (const result of classifier.classifyFiles(files, { batchSize: options.batchSize })) {
    options.progress?.(++done, files.length);
    collect(result);
  }
  function collect(result: PredictionResult): void {
    if ('error' in result) {
      errors.push({ file: result.file, message: result.error.message });
      return;
    }
    photos.push({ file: result.file, truth: truthOf.get(result.file) as number, predicted: classifier.labels.indexOf(result.label), score: result.score });
  }
  return {
    ...summarizePredictions(classifier.labels, photos),
    model: classifier.modelPath,
    data,
    executionProvider: classifier.executionProvider,
    tta: classifier.tta,
    errors,
    seconds: (Date.now() - started) / 1000,
  };
}
