/** One confidence bin of a reliability diagram: photos whose top score fell in [from, to). */
export interface CalibrationBin {
  from: number;
  to: number;
  count: number;
  /** Mean top score in the bin; null when the bin is empty. */
  confidence: number | null;
  /** Fraction of the bin's photos predicted correctly; null when the bin is empty. */
  accuracy: number | null;
}

export interface Calibration {
  /** Expected calibration error: sum over bins of (count / n) * |accuracy - confidence|. */
  ece: number;
  n: number;
  bins: CalibrationBin[];
}

export const CALIBRATION_BINS = 10;

/**
 * How far the top-1 scores are from being probabilities one can trust (Guo et al. 2017): equal
 * width bins over [0, 1], the last one closed so a score of exactly 1 (float32 softmax saturates)
 * is counted. A well calibrated model right 90% of the time on photos it scores 0.9 has ECE ~0.
 */
export function computeCalibration(scores: readonly number[], correct: readonly boolean[], binCount = CALIBRATION_BINS): Calibration {
  if (scores.length !== correct.length) throw new RangeError(`${scores.length} scores but ${correct.length} outcomes`);
  const count = new Array<number>(binCount).fill(0);
  const scoreSum = new Array<number>(binCount).fill(0);
  const hits = new Array<number>(binCount).fill(0);
  scores.forEach((s, i) => {
    const b = Math.min(binCount - 1, Math.max(0, Math.floor(s * binCount)));
    count[b]++;
    scoreSum[b] += s;
    if (correct[i]) hits[b]++;
  });
  const n = scores.length;
  const bins = count.map((c, b): CalibrationBin => ({
    from: b / binCount,
    to: (b + 1) / binCount,
    count: c,
    confidence: c ? scoreSum[b] / c : null,
    accuracy: c ? hits[b] / c : null,
  }));
  const ece = n ? bins.reduce((a, bin) => a + (bin.count / n) * Math.abs((bin.accuracy ?? 0) - (bin.confidence ?? 0)), 0) : 0;
  return { ece, n, bins };
}
