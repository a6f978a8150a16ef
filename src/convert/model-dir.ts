import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadBaseModel, loadTf, readTfjsMetadata } from '../backbone/index.ts';
import { imageToInput, seededRandom } from '../data/index.ts';
import { MODEL_FILES, SPEC_METADATA_KEY, validateSpec, type ModelSpec } from '../spec/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { exportLayersModel } from './export.ts';
import { verifyAgainstTfjs, type VerifyResult } from './verify.ts';

/** Largest |ONNX - TF.js| accepted on class probabilities. */
export const PARITY_TOLERANCE = 1e-4;

export class VerificationError extends Error {
  override name = 'VerificationError';
}

export interface ConvertResult {
  path: string;
  bytes: number;
  labels: string[];
  verification?: VerifyResult & { tolerance: number };
}

function randomInputs(count: number, size: number, range: [number, number], seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: size }, () => range[0] + random() * (range[1] - range[0])));
}

/**
 * Exports a model directory's TF.js model (tfjs/model.json, whose metadata holds the ModelSpec)
 * to ONNX with the spec in the ONNX metadata. With `verify`, ONNX Runtime and TF.js must agree
 * within PARITY_TOLERANCE on random inputs and on `verifyFiles` (real photos), or it throws.
 */
export async function convertModelDir(dir: string, options: { out?: string; verify?: boolean; verifyFiles?: string[] } = {}): Promise<ConvertResult> {
  const tfjsDir = path.join(dir, MODEL_FILES.tfjs);
  await stat(path.join(tfjsDir, 'model.json')).catch(() => {
    throw new VerificationError(`${dir}: no TF.js model at ${path.join(tfjsDir, 'model.json')}; train one with footwear train`);
  });
  const metadata = await readTfjsMetadata(tfjsDir);
  const spec: ModelSpec = validateSpec(metadata.spec, path.join(tfjsDir, 'model.json'));
  const { tf } = await loadTf();
  const model = await loadBaseModel(tf, tfjsDir);
  const bytes = exportLayersModel(model, {
    inputName: spec.inputName,
    outputName: spec.outputName,
    modelName: 'footwear',
    metadata: { [SPEC_METADATA_KEY]: JSON.stringify(spec), labels: spec.labels.join(',') },
  });
  let verification: ConvertResult['verification'];
  if (options.verify) {
    const { height, width } = spec.preprocess;
    const inputs = randomInputs(2, height * width * 3, spec.preprocess.range, 1);
    for (const file of options.verifyFiles ?? []) inputs.push(await imageToInput(await readFile(file), file, spec.preprocess));
    const result = await verifyAgainstTfjs(model, bytes, inputs, ort);
    verification = { ...result, tolerance: PARITY_TOLERANCE };
    if (!(result.maxAbsDiff <= PARITY_TOLERANCE)) {
      throw new VerificationError(`${dir}: ONNX and TF.js disagree by ${result.maxAbsDiff.toExponential(2)} (tolerance ${PARITY_TOLERANCE}); the ONNX file was not written`);
    }
  }
  const out = options.out ?? path.join(dir, MODEL_FILES.onnx);
  await writeFileAtomic(out, bytes);
  return { path: out, bytes: bytes.length, labels: spec.labels, verification };
}
