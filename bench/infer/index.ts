// Inference bench: raw ONNX Runtime vs `footwear predict` vs TF.js and onnxruntime-web, one run.
export { runBench, type BenchOptions } from './run.ts';
export { DEFAULT_IMAGES, DEFAULT_BATCH_SIZES, DEFAULT_BASELINE_IMAGES, DEFAULT_ROUNDS, GOALS } from './defaults.ts';
export { formatText, markdownSection, writeReport, CPU_HEADING, GPU_HEADING, GPU_NOT_MEASURED } from './report.ts';
export { modelVariants, type VariantFile } from './variants.ts';
export type { BenchReport, BenchRow, RowKind, VariantName, VariantStatus, Ratio, LatencySummary, Pairing } from './types.ts';
