import { openSession } from '../../core/index.ts';
import '../../node/index.ts';
import type { VerifyResult } from '../verify.ts';

const BATCH = 16;

async function outputs(model: Uint8Array, inputs: Float32Array[], shape: readonly number[]): Promise<Float32Array[]> {
  const session = await openSession(model, { ep: 'cpu' });
  const size = shape.reduce((a, b) => a * b, 1);
  const result: Float32Array[] = [];
  try {
    for (let start = 0; start < inputs.length; start += BATCH) {
      const chunk = inputs.slice(start, start + BATCH);
      const feed = new Float32Array(chunk.length * size);
      chunk.forEach((sample, i) => feed.set(sample, i * size));
      const out = (await session.run(feed, [chunk.length, ...shape])).data;
      const per = out.length / chunk.length;
      for (let i = 0; i < chunk.length; i++) result.push(out.slice(i * per, (i + 1) * per));
    }
  } finally {
    await session.release();
  }
  return result;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * How far a quantised model's outputs are from the float model's on the same inputs, in
 * ONNX Runtime on the CPU: the largest |difference| and how many top labels agree.
 */
export async function compareModels(reference: Uint8Array, candidate: Uint8Array, inputs: Float32Array[], shape: readonly number[]): Promise<VerifyResult> {
  const [a, b] = [await outputs(reference, inputs, shape), await outputs(candidate, inputs, shape)];
  let maxAbsDiff = 0;
  let sameArgmax = 0;
  a.forEach((expected, i) => {
    expected.forEach((v, j) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - b[i][j]))));
    if (argmax(expected) === argmax(b[i])) sameArgmax++;
  });
  return { maxAbsDiff, sameArgmax, n: inputs.length };
}
