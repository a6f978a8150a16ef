// The platform-neutral core: what a footwear model is (its spec), how a photo becomes its input
// (resize), how a model is read and opened (metadata, runtimes, providers, sessions) and what a
// classifier does with it. No Node and no DOM APIs: src/node and src/browser stand on this.
export { UserError, isUserError } from './errors.ts';
export {
  SPEC_FORMAT,
  SPEC_METADATA_KEY,
  DEFAULT_MAX_PIXELS,
  MODEL_FILES,
  SpecError,
  defaultPreprocess,
  parseSpec,
  validateSpec,
  type ModelSpec,
  type PreprocessSpec,
} from './spec.ts';
export { resizeToInput } from './resize.ts';
export { setWasmResampling, wasmResampleRuns } from './wasm/resample.ts';
export { readOnnxMetadata, OnnxFormatError } from './onnx-metadata.ts';
export {
  registerRuntime,
  registeredRuntimes,
  resolveRuntime,
  firstLine,
  RuntimeError,
  type InferenceRuntime,
  type OnnxSession,
  type OnnxOutput,
  type RuntimeSessionOptions,
} from './runtime.ts';
export {
  parseEp,
  resolveProviders,
  fallbackLine,
  EP_CHOICES,
  FALLBACKS,
  CUDA_INSTALL_HINT,
  ProviderError,
  type EpChoice,
  type ProviderPlan,
  type ResolveProvidersOptions,
  type Log,
} from './providers.ts';
export { openSession, type OpenSessionOptions } from './session.ts';
export { OrtSession, type OrtInferenceSessionLike, type OrtTensorLike, type Float32TensorFactory } from './ort-session.ts';
export { openModel, specFromModel, checkModel, ModelError, type OpenedModel } from './model.ts';
export { ClassifierCore, DEFAULT_TOP_K, positiveInteger, type ClassifierCoreOptions } from './classifier.ts';
export { TtaViews, TTA_EXPECTED, TTA_MAX_VIEWS, TTA_ZOOM_KEEP, parseTta, ttaName, ttaViews, type TtaSetting } from './tta.ts';
export { topK, toPrediction, isFailure, type PredictionResult, type Prediction, type PredictionFailure, type LabelScore } from './prediction.ts';
export * as wasmEmit from './wasm/emit.ts';
export {
  HEADER_LENGTH,
  V2ProtocolError,
  encodeInferRequest,
  encodeInferResponse,
  decodeInferRequest,
  decodeInferResponse,
  elementStrings,
  elementCount,
  float32Bytes,
  bytesElements,
  type Tensor,
  type TensorData,
  type InferRequest,
  type InferResponse,
  type RequestedOutput,
  type EncodedMessage,
  type Parameters as V2Parameters,
} from './v2-protocol.ts';
export { classificationStrings, parseClassification, tritonFixed, type Classification } from './v2-classification.ts';
export { metadataDifferences, labelDifference, publishesLabels, labelsFromClassifications } from './v2-model-check.ts';
export { parseRuntimeChoice, parseV2Url, RuntimeChoiceError, LOCAL_RUNTIME, DEFAULT_V2_PORT, RUNTIME_HELP, type V2Target, type RuntimeChoice } from './v2-url.ts';
