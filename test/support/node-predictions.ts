import assert from 'node:assert/strict';
import { isFailure, type Prediction } from '../../src/core/index.ts';
import { loadModel } from '../../src/node/index.ts';

/** What onnxruntime-node answers for these files: the reference the browser tests hold pages to. */
export async function nodePredictions(model: string, files: string[]): Promise<Prediction[]> {
  const classifier = await loadModel(model, { ep: 'cpu' });
  const out: Prediction[] = [];
  try {
    for await (const result of classifier.classifyFiles(files, { topK: 3 })) {
      assert.ok(!isFailure(result), `Node failed on ${result.file}`);
      out.push(result);
    }
  } finally {
    await classifier.release();
  }
  return out;
}
