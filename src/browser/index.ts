// Browser entry point ("footwear/web"): classify photos in a web page with the same model file,
// labels, preprocessing and loader as the Node CLI (src/core), on onnxruntime-web. Imports only
// the core and this folder, never src/node, which needs onnxruntime-node and fs.
export { createClassifier, type ClassifierOptions, type WebClassifier, type WebPrediction } from './classifier.ts';
export { decodeToRgba, WebImageError, type WebImage, type DecodedRgba, type WebImageErrorCode } from './decode.ts';
export { createWebRuntime, backendName, defaultThreads, WebSession, type WebRuntime, type WebRuntimeOptions, type WebBackend, type WebProvider } from './runtime.ts';
export {
  ModelError,
  UserError,
  DEFAULT_MAX_PIXELS,
  readOnnxMetadata,
  specFromModel,
  OnnxFormatError,
  type LabelScore,
  type ModelSpec,
  type PreprocessSpec,
  type TtaSetting,
} from '../core/index.ts';
