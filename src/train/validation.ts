import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../backbone/index.ts';
import { summarizePredictions, type ScoredPhoto, type ScoredSummary } from '../eval/index.ts';
import type { FeatureSet } from './extract.ts';
import { standardize, type FeatureNorm } from './head.ts';

/**
 * The restored best head's verdict on every validation photo, from the features already in
 * memory: no image is decoded again, and these are the very predictions behind the best epoch's
 * validation accuracy in the history (same weights, same inputs, same batch size as
 * model.evaluate), so the report's numbers agree with training.json. The exported model gives the
 * same answers, up to float rounding between TF.js and ONNX Runtime.
 */
export function validatePhotos(tf: Tf, head: tfjs.LayersModel, val: FeatureSet, norm: FeatureNorm, labels: readonly string[]): ScoredSummary {
  const n = val.labels.length;
  const probs = tf.tidy(() => (head.predict(tf.tensor2d(standardize(val.features, norm), [n, val.dim]), { batchSize: 256 }) as tfjs.Tensor).dataSync() as Float32Array);
  const k = labels.length;
  const photos: ScoredPhoto[] = [];
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * k, (i + 1) * k);
    // First maximum wins ties, as tf.argMax does in TF.js's accuracy metric.
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c] > row[best]) best = c;
    photos.push({ file: val.files[i], truth: val.labels[i], predicted: best, score: row[best] });
  }
  return summarizePredictions(labels, photos);
}
