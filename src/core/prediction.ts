// Result types and ranking shared by every front end (CLI, server, browser).

export interface LabelScore {
  label: string;
  score: number;
}

export interface Prediction extends LabelScore {
  file: string;
  /** The best labels, best first; topK[0] repeats label and score. */
  topK: LabelScore[];
}

export interface PredictionFailure {
  file: string;
  error: {
    /** ImageError code: 'unreadable' | 'empty' | 'undecodable' | 'unsupported' | 'too-large'. */
    code: string;
    /** Why this file failed, without the file name (that is in `file`). */
    message: string;
  };
}

export type PredictionResult = Prediction | PredictionFailure;

/** Whether a result (a prediction, or a prepared input) is a per-file failure. */
export function isFailure<T extends object>(result: T | PredictionFailure): result is PredictionFailure {
  return 'error' in result;
}

/** The `k` highest-scoring labels, best first; equal scores keep label order. */
export function topK(probs: ArrayLike<number>, labels: readonly string[], k: number): LabelScore[] {
  if (probs.length !== labels.length) throw new RangeError(`${probs.length} scores for ${labels.length} labels`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK should be a positive integer, got ${k}`);
  const order = Array.from(labels.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, k).map((i) => ({ label: labels[i], score: probs[i] }));
}

export function toPrediction(file: string, probs: ArrayLike<number>, labels: readonly string[], k: number): Prediction {
  const ranked = topK(probs, labels, k);
  return { file, label: ranked[0].label, score: ranked[0].score, topK: ranked };
}
