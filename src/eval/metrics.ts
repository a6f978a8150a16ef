export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalMetrics {
  accuracy: number;
  n: number;
  labels: readonly string[];
  /** confusion[truth][predicted] */
  confusion: number[][];
  perClass: ClassMetrics[];
  macroF1: number;
}

/** Accuracy, confusion matrix (rows = truth) and per-class precision/recall/F1. */
export function computeMetrics(labels: readonly string[], truth: number[], predicted: number[]): EvalMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`truth has ${truth.length} entries but predictions ${predicted.length}`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
    if (t === predicted[i]) correct++;
  });
  const perClass = labels.map((label, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs ? tp / predictedAs : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return {
    accuracy: truth.length ? correct / truth.length : 0,
    n: truth.length,
    labels,
    confusion,
    perClass,
    macroF1: perClass.reduce((a, c) => a + c.f1, 0) / k,
  };
}
