import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBaseModel, loadTf } from '../../src/backbone/index.ts';
import { imageToInput } from '../../src/node/index.ts';
import { toPrediction } from '../../src/core/index.ts';
import { MODEL_FILES, type ModelSpec } from '../../src/core/index.ts';
import { measureRow, type BenchContext } from './row.ts';
import type { BenchRow } from './types.ts';

/** Why the TF.js row cannot run for `modelDir`, or undefined when it can. */
export function tfjsUnavailable(modelDir: string): string | undefined {
  const json = path.join(modelDir, MODEL_FILES.tfjs, 'model.json');
  return existsSync(json) ? undefined : `no TF.js copy of the model (${json} is missing)`;
}

/**
 * What a TF.js user would run for the same job: the TF.js copy of the model that training saves
 * (tfjs/model.json), photos read and preprocessed exactly as predict does, a batch decoded at once,
 * model.predict, then top-k per photo. The wasm backend is TF.js's fast CPU backend where the
 * native tfjs-node bindings are not installed (they are not here, see loadTf).
 */
export async function tfjsRow(modelDir: string, spec: ModelSpec, files: readonly string[], batchSize: number, topK: number, context: BenchContext): Promise<BenchRow> {
  const { tf, backend } = await loadTf('wasm');
  const model = await loadBaseModel(tf, path.join(modelDir, MODEL_FILES.tfjs));
  const { height, width } = spec.preprocess;
  const size = height * width * 3;

  const classify = async (batchFiles: readonly string[]): Promise<number> => {
    const inputs = await Promise.all(batchFiles.map(async (file) => imageToInput(await readFile(file), file, spec.preprocess)));
    const batch = new Float32Array(inputs.length * size);
    inputs.forEach((input, i) => batch.set(input, i * size));
    const x = tf.tensor4d(batch, [inputs.length, height, width, 3]);
    const y = model.predict(x) as tfjs.Tensor;
    const probs = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    const classes = spec.labels.length;
    if (probs.length !== inputs.length * classes) throw new Error(`TF.js model returned ${probs.length} scores for ${inputs.length} images of ${classes} classes`);
    batchFiles.forEach((file, i) => toPrediction(file, probs.subarray(i * classes, (i + 1) * classes), spec.labels, topK));
    return inputs.length;
  };

  try {
    await classify(files.slice(0, Math.min(2, files.length))); // warm-up: wasm kernels and weights upload
    return await measureRow({ kind: 'tfjs', runtime: `TF.js (${backend})`, variant: 'fp32', batchSize }, context, async () => {
      let done = 0;
      for (let i = 0; i < files.length; i += batchSize) done += await classify(files.slice(i, i + batchSize));
      return done;
    });
  } finally {
    model.dispose();
  }
}
