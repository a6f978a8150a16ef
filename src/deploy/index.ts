// Deploy stage: hand an exported footwear model to serving engines platform teams already run
// (a Triton model repository today); the container and Kubernetes files live in Dockerfile and deploy/.
export { ExportError } from './errors.ts';
export { exportTriton, defaultModelName, type ExportTritonOptions, type TritonExport, type WrittenFile } from './triton-repo.ts';
export { tritonConfig, labelsFile, checkTritonOptions, isTritonName, TRITON_DEFAULTS, TRITON_PLATFORM, TRITON_MODEL_FILE, TRITON_VERSION, LABELS_FILE, type TritonOptions } from './triton-config.ts';
export { readGraphSignature, formatDims, type GraphSignature, type TensorInfo, type Dim } from './onnx-graph.ts';
export { formatPbtxt, PbEnum, type PbMessage, type PbValue } from './pbtxt.ts';
