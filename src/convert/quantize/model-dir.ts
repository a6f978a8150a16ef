import path from 'node:path';
import type { PreprocessSpec } from '../../core/index.ts';
import type { VerifyResult } from '../verify.ts';
import { loadCalibration, trainingFolder } from './calibration-set.ts';
import { compareModels } from './compare.ts';
import { convertToFloat16 } from './float16.ts';
import { quantizeInt8 } from './int8.ts';
import type { QuantizeMode } from './mode.ts';

export interface QuantizationReport {
  mode: QuantizeMode;
  /** Size of the float32 export it was made from. */
  fp32Bytes: number;
  /** int8: the folder the calibration images came from and how many were used / unreadable. */
  calibration?: { folder: string; images: number; skipped: number };
  /** Quantised vs float32 outputs: on the calibration images (int8) or the verification inputs (fp16). */
  check?: VerifyResult;
}

/** Where `convert --quantize MODE` writes by default: DIR/model.int8.onnx, DIR/model.fp16.onnx. */
export function quantizedFileName(mode: QuantizeMode): string {
  return `model.${mode}.onnx`;
}

export interface QuantizeExportOptions {
  mode: QuantizeMode;
  /** Model directory, whose training.json names the default calibration folder. */
  modelDir: string;
  preprocess: PreprocessSpec;
  /** Folder-per-class images to calibrate int8 on instead of the training folder. */
  calibration?: string;
  /** Inputs to compare the fp16 model with float32 on (int8 compares on its calibration images). */
  checkInputs?: Float32Array[];
}

/** Quantises a freshly exported float32 model for `convertModelDir`, with a report of how it went. */
export async function quantizeExport(fp32: Uint8Array, options: QuantizeExportOptions): Promise<{ bytes: Uint8Array; report: QuantizationReport }> {
  const { mode, preprocess } = options;
  const shape = [preprocess.height, preprocess.width, 3];
  if (mode === 'fp16') {
    if (options.calibration !== undefined) throw new RangeError('--calibration only applies to --quantize int8');
    const bytes = convertToFloat16(fp32);
    const check = options.checkInputs?.length ? await compareModels(fp32, bytes, options.checkInputs, shape) : undefined;
    return { bytes, report: { mode, fp32Bytes: fp32.length, check } };
  }
  const folder = path.resolve(options.calibration ?? (await trainingFolder(options.modelDir)));
  const data = await loadCalibration(folder, preprocess);
  const { bytes } = await quantizeInt8(fp32, data, { source: folder });
  const check = await compareModels(fp32, bytes, data.inputs, shape);
  return { bytes, report: { mode, fp32Bytes: fp32.length, calibration: { folder, images: data.inputs.length, skipped: data.skipped }, check } };
}
