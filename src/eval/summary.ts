import { computeCalibration, type Calibration } from './calibration.ts';
import { computeMetrics, type EvalMetrics } from './metrics.ts';

/** One photo's outcome: label indices into the model's labels and the top-1 score. */
export interface ScoredPhoto {
  file: string;
  truth: number;
  predicted: number;
  score: number;
}

export interface Mistake {
  file: string;
  truth: string;
  predicted: string;
  score: number;
}

export interface ScoredSummary extends EvalMetrics {
  calibration: Calibration;
  /** Every wrong prediction, in input order. */
  misclassified: Mistake[];
}

/**
 * Metrics, calibration and the list of mistakes from per-photo outcomes; `eval` on a test folder
 * and `train` on its validation split both summarise through here, so their numbers mean the same.
 */
export function summarizePredictions(labels: readonly string[], photos: readonly ScoredPhoto[]): ScoredSummary {
  const metrics = computeMetrics(
    labels,
    photos.map((p) => p.truth),
    photos.map((p) => p.predicted),
  );
  return {
    ...metrics,
    calibration: computeCalibration(
      photos.map((p) => p.score),
      photos.map((p) => p.truth === p.predicted),
    ),
    misclassified: photos.filter((p) => p.truth !== p.predicted).map((p) => ({ file: p.file, truth: labels[p.truth], predicted: labels[p.predicted], score: p.score })),
  };
}
