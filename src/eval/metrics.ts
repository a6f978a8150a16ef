export interface ClassMetrics {
  label: string;
  /** null when nothing was predicted as this class: there is no precision to speak of. */
  precision: number | null;
  /** null when the class has no photos (support 0). */
  recall: number | null;
  /** null when the class has no photos; 0 when it has photos but none was found. */
  f1: number | null;
  support: number;
}

export interface EvalMetrics {
  accuracy: number;
  n: number;
  labels: readonly string[];
  /** confusion[truth][predicted] */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** Mean F1 over the classes that have photos (a class absent from the data has no F1). */
  macroF1: number;
}

/**
 * Accuracy, confusion matrix (rows = truth) and per-class precision/recall/F1. A ratio with a
 * zero denominator is null, not 0: a test folder without sandals says nothing about how well
 * sandals are recognised, and a 0.00% there would read as a failure of the model.
 */
export function computeMetrics(labels: readonly string[], truth: number[], predicted: number[]): EvalMetrics {
  if (truth.length !== predicted.length) throw new RangeError(`truth has ${truth.length} entries but predictions ${predicted.length}`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]]++;
    if (t === predicted[i]) correct++;
  });
  const perClass = labels.map((label, c): ClassMetrics => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs ? tp / predictedAs : null;
    const recall = support ? tp / support : null;
    // With photos but no hit (tp = 0) F1 is 0 even when precision is undefined: the class was missed.
    const f1 = recall === null ? null : tp === 0 ? 0 : (2 * (precision as number) * recall) / ((precision as number) + recall);
    return { label, precision, recall, f1, support };
  });
  const present = perClass.filter((c) => c.f1 !== null);
  return {
    accuracy: truth.length ? correct / truth.length : 0,
    n: truth.length,
    labels,
    confusion,
    perClass,
    macroF1: present.length ? present.reduce((a, c) => a + (c.f1 as number), 0) / present.length : 0,
  };
}
