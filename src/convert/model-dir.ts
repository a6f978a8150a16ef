import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadBaseModel, loadTf, readTfjsMetadata } from '../backbone/index.ts';
import { imageToInput, writeFileAtomic } from '../node/index.ts';
import { seededRandom } from '../data/index.ts';
import { MODEL_FILES, SPEC_METADATA_KEY, UserError, validateSpec, type ModelSpec } from '../core/index.ts';
import { exportLayersModel } from './export.ts';
import { quantizeExport, quantizedFileName, type QuantizationReport, type QuantizeMode } from './quantize/index.ts';
import { verifyAgainstTfjs, type VerifyResult } from './verify.ts';

/** Largest |ONNX - TF.js| accepted on class probabilities. */
export const PARITY_TOLERANCE = 1e-4;

export class VerificationError extends UserError {
  override name = 'VerificationError';
}

export interface ConvertResult {
  path: string;
  bytes: number;
  labels: string[];
  verification?: VerifyResult & { tolerance: number };
  /** With `quantize`: how the written (quantised) file was made and how it compares with float32. */
  quantization?: QuantizationReport;
}

export interface ConvertOptions {
  /** File to write; default DIR/model.onnx, or DIR/model.<mode>.onnx with `quantize`. */
  out?: string;
  verify?: boolean;
  verifyFiles?: string[];
  /** Write a quantised model instead of the float32 one (see src/convert/quantize). */
  quantize?: QuantizeMode;
  /** int8 only: folder-per-class calibration images; default: the training folder in training.json. */
  calibration?: string;
}

function randomInputs(count: number, size: number, range: [number, number], seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: size }, () => range[0] + random() * (range[1] - range[0])));
}

/**
 * Exports a model directory's TF.js model (tfjs/model.json, whose metadata holds the ModelSpec)
 * to ONNX with the spec in the ONNX metadata. With `verify`, ONNX Runtime and TF.js must agree
 * within PARITY_TOLERANCE on random inputs and on `verifyFiles` (real photos), or it throws.
 * With `quantize`, the verified float32 export is quantised and only the quantised file written.
 */
export async function convertModelDir(dir: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  if (options.calibration !== undefined && options.quantize !== 'int8') throw new RangeError('--calibration only applies to --quantize int8');
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
  const inputs: Float32Array[] = [];
  if (options.verify) {
    const { height, width } = spec.preprocess;
    inputs.push(...randomInputs(2, height * width * 3, spec.preprocess.range, 1));
    for (const file of options.verifyFiles ?? []) inputs.push(await imageToInput(await readFile(file), file, spec.preprocess));
    const result = await verifyAgainstTfjs(model, bytes, inputs);
    verification = { ...result, tolerance: PARITY_TOLERANCE };
    if (!(result.maxAbsDiff <= PARITY_TOLERANCE)) {
      throw new VerificationError(`${dir}: ONNX and TF.js disagree by ${result.maxAbsDiff.toExponential(2)} (tolerance ${PARITY_TOLERANCE}); the ONNX file was not written`);
    }
  }
  let written = bytes;
  let quantization: QuantizationReport | undefined;
  if (options.quantize) {
    ({ bytes: written, report: quantization } = await quantizeExport(bytes, {
      mode: options.quantize,
      modelDir: dir,
      preprocess: spec.preprocess,
      calibration: options.calibration,
      checkInputs: inputs,
    }));
  }
  const out = options.out ?? path.join(dir, options.quantize ? quantizedFileName(options.quantize) : MODEL_FILES.onnx);
  await writeFileAtomic(out, written);
  return { path: out, bytes: written.length, labels: spec.labels, verification, quantization };
}
