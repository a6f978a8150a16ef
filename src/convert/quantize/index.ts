// Post-training quantisation of exported models: static int8 in QDQ form (calibrated in ONNX
// Runtime) for CPUs, float16 for GPUs and WebGPU. Both rewrite the float32 ModelProto and keep
// its metadata (footwear.spec), adding footwear.quantization.
export { quantizeInt8, type Int8Options, type Int8Result } from './int8.ts';
export { DEFAULT_INT8, int8Variant, variantName, type Int8Ops, type Int8Variant } from './variant.ts';
export { convertToFloat16, type Float16Options } from './float16.ts';
export { QUANTIZE_MODES, QUANTIZATION_METADATA_KEY, parseQuantizeMode, type QuantizeMode } from './mode.ts';
export { loadCalibration, pickCalibrationFiles, trainingFolder, DEFAULT_CALIBRATION_SAMPLES } from './calibration-set.ts';
export { compareModels } from './compare.ts';
export { quantizeExport, quantizedFileName, type QuantizationReport, type QuantizeExportOptions } from './model-dir.ts';
export type { CalibrationData } from './calibrate.ts';
