import { loadTf } from '../backbone/index.ts';
import { openSession } from '../core/index.ts';
import '../node/index.ts';
import type * as tfjs from '@tensorflow/tfjs';

export interface VerifyResult {
  /** Largest |onnx - tfjs| over every output value of every input. */
  maxAbsDiff: number;
  /** Inputs whose output argmax (the predicted class, for classifiers) agrees. */
  sameArgmax: number;
  n: number;
}

const BATCH = 8;

function argmax(values: ArrayLike<number>, from: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[from + i] > values[from + best]) best = i;
  return best;
}

/**
 * Runs the same inputs (each an HWC image as the model's input expects) through the TF.js model
 * and the exported ONNX bytes, and reports how far the outputs are apart.
 */
export async function verifyAgainstTfjs(
  model: tfjs.LayersModel,
  onnxBytes: Uint8Array,
  inputs: Float32Array[],
): Promise<VerifyResult> {
  const { tf } = await loadTf();
  const sampleShape = model.inputs[0].shape.slice(1);
  if (sampleShape.some((d) => d == null)) throw new Error(`model input shape [${model.inputs[0].shape}] must be fully known to verify`);
  const dims = sampleShape as number[];
  const sampleSize = dims.reduce((a, b) => a * b, 1);
  // The reference is the CPU provider: parity is a property of the file, not of a GPU's arithmetic.
  const session = await openSession(onnxBytes, { ep: 'cpu' });
  let maxAbsDiff = 0;
  let sameArgmax = 0;
  try {
    for (let start = 0; start < inputs.length; start += BATCH) {
      const chunk = inputs.slice(start, start + BATCH);
      const batch = new Float32Array(chunk.length * sampleSize);
      chunk.forEach((sample, i) => {
        if (sample.length !== sampleSize) throw new Error(`input ${start + i} has ${sample.length} values; the model expects ${dims.join('x')} = ${sampleSize}`);
        batch.set(sample, i * sampleSize);
      });
      const expected = tf.tidy(() => (model.predict(tf.tensor(batch, [chunk.length, ...dims])) as tfjs.Tensor).dataSync());
      const actual = (await session.run(batch, [chunk.length, ...dims])).data;
      if (actual.length !== expected.length) throw new Error(`ONNX output has ${actual.length} values, TF.js ${expected.length}`);
      const perSample = expected.length / chunk.length;
      for (let i = 0; i < expected.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(actual[i] - expected[i]));
      for (let s = 0; s < chunk.length; s++) {
        if (argmax(actual, s * perSample, perSample) === argmax(expected, s * perSample, perSample)) sameArgmax++;
      }
    }
  } finally {
    await session.release();
  }
  return { maxAbsDiff, sameArgmax, n: inputs.length };
}
