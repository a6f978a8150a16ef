// The package entry ("footwear"): everything a Node program needs to train, export, evaluate,
// run and serve a footwear classifier. Browsers import "footwear/web" (src/browser) instead.
export {
  UserError,
  ModelError,
  SpecError,
  ProviderError,
  RuntimeError,
  OnnxFormatError,
  DEFAULT_MAX_PIXELS,
  MODEL_FILES,
  defaultPreprocess,
  readOnnxMetadata,
  specFromModel,
  registerRuntime,
  resolveRuntime,
  openSession,
  topK,
  isFailure,
  type ModelSpec,
  type PreprocessSpec,
  type InferenceRuntime,
  type OnnxSession,
  type OnnxOutput,
  type EpChoice,
  type Prediction,
  type PredictionFailure,
  type PredictionResult,
  type LabelScore,
  type TtaSetting,
} from './core/index.ts';
export { loadModel, Classifier, ImageError, DEFAULT_BATCH_SIZE, type LoadModelOptions, type ClassifyFilesOptions, type FileEntry } from './node/index.ts';
export { discoverDataset, DatasetError, listInputs, shardOf, type Dataset, type ListedEntry, type ListOptions, type Shard } from './data/index.ts';
export { train, defaultTrainOptions, TrainError, FINE_TUNE_DEFAULTS, type TrainOptions, type TrainResult, type TrainEvents, type EpochStats, type FineTuneOptions, type FineTuneResult } from './train/index.ts';
export { convertModelDir, exportLayersModel, VerificationError, type ConvertOptions, type ConvertResult } from './convert/index.ts';
export { evaluate, EvalError, type EvalReport } from './eval/index.ts';
export { startServer, type RunningServer, type ServeOptions, type AccessLogEntry } from './serve/index.ts';
export { buildWebSite, type BuildWebSiteOptions, type BuiltSite } from './web/index.ts';
export { writeTrainReport, writeEvalReport } from './report/index.ts';
