// Browser entry point ("footwear/web"): classify photos in a web page with the same model file,
// labels and preprocessing as the Node CLI. Imports only platform-neutral modules, never
// src/infer/index.ts, which loads onnxruntime-node and fs.
export { createClassifier, WebModelError, type ClassifierOptions, type WebClassifier, type WebPrediction } from './classifier.ts';
export { decodeToRgba, WebImageError, DEFAULT_MAX_PIXELS, type WebImage, type DecodedRgba, type WebImageErrorCode } from './decode.ts';
export { readModelMetadata, OnnxMetadataError } from './onnx-metadata.ts';
export { createWebRuntime, backendName, defaultThreads, WebSession, type WebRuntime, type WebRuntimeOptions, type WebBackend, type WebProvider } from './web-runtime.ts';
export type { LabelScore } from '../infer/prediction.ts';
export type { ModelSpec, PreprocessSpec } from '../spec/index.ts';
