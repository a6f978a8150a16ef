// The Node shell on the core: onnxruntime-node, decoding with sharp, reading files, worker
// threads, and atomic writes. Importing it registers onnxruntime-node as the preferred runtime.
import './register.ts';

export { loadModel, readModelSpec, resolveModelFile, readModelFile, checkDerivedModel, type LoadModelOptions } from './model.ts';
export { Classifier, DEFAULT_BATCH_SIZE, type ClassifyFilesOptions, type FileEntry } from './classifier.ts';
export { decodeImage, decodeWithSharp, maxFileBytes, ImageError, type DecodedImage, type DecodeOptions } from './decode.ts';
export { prepareFile, prepareImage, imageToInput, decodeInput, writeInput, type Prepared, type DecodedInput, type InputSlot } from './prepare.ts';
export { WorkerPool, WorkerStoppedError, type WorkerPoolOptions } from './worker-pool.ts';
export { hostWorker, type WorkerHandlers } from './worker-host.ts';
export { workerUrl } from './start-worker.ts';
export { writeFileAtomic, writeJsonAtomic, OutputError } from './atomic.ts';
export { packageVersion, footwearVersion, runtimeVersions } from './versions.ts';
export { createV2Runtime, runtimeFor, REMOTE_DEVICE, type V2RuntimeOptions } from './v2-runtime.ts';
export { V2Client, V2_CLIENT_DEFAULTS, RemoteError, RemoteUnavailableError, type V2ClientOptions } from './v2-client.ts';
