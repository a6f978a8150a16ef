// The ONNX exporter: TF.js Keras LayersModel -> ONNX ModelProto bytes, written in TypeScript.
export { exportLayersModel, supportedLayers, type ExportOptions } from './export.ts';
export { UnsupportedLayerError } from './errors.ts';
export { verifyAgainstTfjs, type VerifyResult, type OrtRuntime } from './verify.ts';
export { onnx } from './onnx.ts';
export { convertModelDir, VerificationError, PARITY_TOLERANCE, type ConvertResult } from './model-dir.ts';
