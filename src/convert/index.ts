// The ONNX exporter: TF.js Keras LayersModel -> ONNX ModelProto bytes, written in TypeScript.
export { exportLayersModel, supportedLayers, type ExportOptions } from './export.ts';
export { UnsupportedLayerError } from './errors.ts';
export { verifyAgainstTfjs, type VerifyResult } from './verify.ts';
export { onnx } from './onnx.ts';
export { convertModelDir, VerificationError, PARITY_TOLERANCE, type ConvertResult, type ConvertOptions } from './model-dir.ts';
export {
  quantizeInt8,
  convertToFloat16,
  compareModels,
  loadCalibration,
  trainingFolder,
  DEFAULT_INT8,
  int8Variant,
  variantName,
  parseQuantizeMode,
  QUANTIZE_MODES,
  QUANTIZATION_METADATA_KEY,
  type QuantizeMode,
  type QuantizationReport,
  type CalibrationData,
  type Int8Variant,
} from './quantize/index.ts';
export { toHalfBits, fromHalfBits } from './quantize/half.ts';
