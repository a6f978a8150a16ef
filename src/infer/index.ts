// Inference stage: load an exported footwear model and classify photos with ONNX Runtime.
import './default-runtimes.ts';

export { loadModel, readModelSpec, ModelError, type LoadModelOptions } from './model.ts';
export { Classifier, DEFAULT_BATCH_SIZE, DEFAULT_TOP_K, type ClassifyFilesOptions } from './classifier.ts';
export { topK, toPrediction, isFailure, type PredictionResult, type Prediction, type PredictionFailure, type LabelScore } from './prediction.ts';
export { readOnnxMetadata, OnnxFormatError } from './metadata.ts';
export { prepareFile, prepareImage, decodeInput, writeInput, type Prepared, type DecodedInput, type InputSlot } from './prepare.ts';
export { openSession, type OpenSessionOptions } from './session.ts';
export { parseEp, resolveProviders, EP_CHOICES, CUDA_INSTALL_HINT, ProviderError, type EpChoice, type ProviderPlan, type ResolveProvidersOptions, type Log } from './providers.ts';
export {
  registerRuntime,
  registeredRuntimes,
  resolveRuntime,
  RuntimeError,
  type InferenceRuntime,
  type OnnxSession,
  type OnnxOutput,
  type RuntimeSessionOptions,
} from './runtime.ts';
export { toCsv, csvField, CSV_HEADER } from './output.ts';
export { writeFileAtomic } from '../util/atomic.ts';
