import path from 'node:path';
import { ExportError } from './errors.ts';
import { formatDims, type GraphSignature, type TensorInfo } from './onnx-graph.ts';
import { PbEnum, formatPbtxt, type PbMessage } from './pbtxt.ts';

// The config.pbtxt of a Triton model repository entry for an exported footwear model. Every
// tensor fact (names, types, shapes) comes from the ONNX graph itself, so the config cannot
// drift from the file Triton loads; the labels file comes from the footwear spec.

export interface TritonOptions {
  /** Model name: the repository folder's name and what clients ask for (v2/models/NAME). */
  name: string;
  /** Largest batch Triton's dynamic batcher forms; 0 turns batching off (fixed-shape models). */
  maxBatchSize: number;
  /** Batch sizes the dynamic batcher tries to form; none lets it form the largest it can. */
  preferredBatchSizes: number[];
  /** Longest a request waits in Triton's queue for others to batch with. */
  maxQueueDelayUs: number;
  /** Model instances (sessions) per device. */
  instances: number;
  /** Run on GPUs through TensorRT in FP16 instead of on CPUs. */
  gpu: boolean;
}

export const TRITON_DEFAULTS = {
  // footwear serve sends batches of up to its --max-batch (16 by default) per request; Triton
  // merges requests from several front replicas, so its batches are a few of those.
  maxBatchSize: 64,
  preferredBatchSizes: [] as number[],
  // A millisecond is small beside the ~25 ms a photo spends in a front replica (BENCHMARKS.md,
  // "Server") and gives requests from other replicas a chance to join a batch. Not measured on
  // a GPU here: tune it with Triton's perf_analyzer.
  maxQueueDelayUs: 1000,
  instances: 1,
  gpu: false,
} as const;

export const TRITON_PLATFORM = 'onnxruntime_onnx';
/** Triton's ONNX Runtime backend loads <version>/model.onnx unless told otherwise. */
export const TRITON_MODEL_FILE = 'model.onnx';
export const TRITON_VERSION = '1';
export const LABELS_FILE = 'labels.txt';
/** Scratch memory TensorRT may use while building and running its engine (Triton's default, 1 GiB). */
const TENSORRT_WORKSPACE_BYTES = String(1 << 30);

// ONNX TensorProto.DataType -> Triton data_type (the table in Triton's model configuration docs).
const DATA_TYPES: Record<number, string> = {
  1: 'TYPE_FP32',
  2: 'TYPE_UINT8',
  3: 'TYPE_INT8',
  4: 'TYPE_UINT16',
  5: 'TYPE_INT16',
  6: 'TYPE_INT32',
  7: 'TYPE_INT64',
  8: 'TYPE_STRING',
  9: 'TYPE_BOOL',
  10: 'TYPE_FP16',
  11: 'TYPE_FP64',
  12: 'TYPE_UINT32',
  13: 'TYPE_UINT64',
};

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function integer(value: number, flag: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new ExportError(`--${flag} should be an integer >= ${min}, got ${value}`);
}

/** Triton uses the name as a folder and in URLs: letters, digits, "_", "." and "-", not leading "." or "-". */
export function isTritonName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** Checks the options alone (before any file is read); says which flag and what it expected. */
export function checkTritonOptions(options: TritonOptions): void {
  if (!isTritonName(options.name)) {
    throw new ExportError(`--name should be letters, digits, "_", "." or "-" (not starting with "." or "-"), as Triton uses it as a folder and URL name; got ${JSON.stringify(options.name)}`);
  }
  integer(options.maxBatchSize, 'max-batch-size', 0);
  integer(options.maxQueueDelayUs, 'max-queue-delay-us', 0);
  integer(options.instances, 'instances', 1);
  const sizes = options.preferredBatchSizes;
  if (sizes.length > 0 && options.maxBatchSize === 0) {
    throw new ExportError(`--preferred-batch-sizes needs batching, but --max-batch-size is 0; drop one of them`);
  }
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > options.maxBatchSize) {
      throw new ExportError(`--preferred-batch-sizes should be integers from 1 to --max-batch-size (${options.maxBatchSize}), got ${sizes.join(',')}`);
    }
  }
}

/** Triton's dims for a tensor: without the batch dimension when Triton batches; -1 where dynamic. */
function tritonDims(tensor: TensorInfo, role: string, maxBatchSize: number, file: string): number[] {
  const dims = tensor.dims.map((d) => ('size' in d ? d.size : -1));
  if (maxBatchSize === 0) {
    if (dims.length === 0) throw new ExportError(`${file}: ${role} "${tensor.name}" is a scalar; Triton needs tensors of rank >= 1`);
    return dims;
  }
  const [batch] = tensor.dims;
  if (!batch || 'size' in batch) {
    throw new ExportError(
      `${file}: ${role} "${tensor.name}" has shape ${formatDims(tensor.dims)}, expected a dynamic first (batch) dimension for --max-batch-size ${maxBatchSize}; ` +
        're-export it with footwear train/convert (they write one), or pass --max-batch-size 0 to serve it unbatched',
    );
  }
  if (dims.length < 2) throw new ExportError(`${file}: ${role} "${tensor.name}" has only a batch dimension ${formatDims(tensor.dims)}; Triton needs at least one more`);
  return dims.slice(1);
}

function dataType(tensor: TensorInfo, role: string, file: string): PbEnum {
  const type = DATA_TYPES[tensor.elemType];
  if (!type) throw new ExportError(`${file}: ${role} "${tensor.name}" has ONNX element type ${tensor.elemType}, which Triton's ONNX Runtime backend does not take`);
  return new PbEnum(type);
}

/** Checks that the spec describes this graph: one input, its output, one score per label. */
function checkSpec(signature: GraphSignature, file: string): void {
  const { inputs, outputs, spec } = signature;
  if (inputs.length !== 1) throw new ExportError(`${file}: expected 1 graph input (the NHWC image batch), got ${inputs.length}: ${inputs.map((i) => i.name).join(', ')}`);
  if (inputs[0].name !== spec.inputName) throw new ExportError(`${file}: the spec names input "${spec.inputName}", the graph has "${inputs[0].name}"`);
  const output = outputs.find((o) => o.name === spec.outputName);
  if (!output) throw new ExportError(`${file}: the spec names output "${spec.outputName}", the graph has ${outputs.map((o) => `"${o.name}"`).join(', ')}`);
  const last = output.dims[output.dims.length - 1];
  if (last && 'size' in last && last.size !== spec.labels.length) {
    throw new ExportError(`${file}: output "${output.name}" has ${last.size} scores per image (shape ${formatDims(output.dims)}), expected one per label (${spec.labels.length})`);
  }
  const { height, width } = spec.preprocess;
  const want = [height, width, 3];
  const got = inputs[0].dims.slice(1);
  if (got.length !== 3 || got.some((d, i) => 'size' in d && d.size !== want[i])) {
    throw new ExportError(`${file}: input "${inputs[0].name}" has shape ${formatDims(inputs[0].dims)}, expected [batch, ${want.join(', ')}] as its spec says (NHWC)`);
  }
  const bad = spec.labels.find((l) => /[\r\n]/.test(l));
  if (bad !== undefined) throw new ExportError(`${file}: label ${JSON.stringify(bad)} has a line break; ${LABELS_FILE} holds one label per line`);
}

/** labels.txt: line i names output score i, as Triton's classification extension reads it. */
export function labelsFile(signature: GraphSignature): string {
  return `${signature.spec.labels.join('\n')}\n`;
}

/** The config.pbtxt text for `signature` (read from `file`, named in comments and errors). */
export function tritonConfig(signature: GraphSignature, options: TritonOptions, file: string): string {
  checkTritonOptions(options);
  checkSpec(signature, file);
  const { spec } = signature;
  const tensor = (t: TensorInfo, role: string): PbMessage => ({
    name: t.name,
    data_type: dataType(t, role, file),
    dims: tritonDims(t, role, options.maxBatchSize, file),
    ...(role === 'output' && t.name === spec.outputName && { label_filename: LABELS_FILE }),
  });
  const config: PbMessage = {
    name: options.name,
    platform: TRITON_PLATFORM,
    max_batch_size: options.maxBatchSize,
    input: signature.inputs.map((t) => tensor(t, 'input')),
    output: signature.outputs.map((t) => tensor(t, 'output')),
    dynamic_batching:
      options.maxBatchSize > 0 ? { preferred_batch_size: options.preferredBatchSizes, max_queue_delay_microseconds: options.maxQueueDelayUs } : undefined,
    instance_group: [{ count: options.instances, kind: new PbEnum(options.gpu ? 'KIND_GPU' : 'KIND_CPU') }],
    optimization: options.gpu
      ? {
          execution_accelerators: {
            gpu_execution_accelerator: [
              {
                name: 'tensorrt',
                parameters: [
                  { key: 'precision_mode', value: 'FP16' },
                  { key: 'max_workspace_size_bytes', value: TENSORRT_WORKSPACE_BYTES },
                ],
              },
            ],
          },
        }
      : undefined,
  };
  const { preprocess } = spec;
  return formatPbtxt(config, {
    name: [
      `Written by footwear export triton from ${path.basename(file)}; labels: ${spec.labels.join(', ')}.`,
      `The input is already preprocessed: NHWC float32, ${preprocess.width}x${preprocess.height} (${preprocess.resize}), values in [${preprocess.range.join(', ')}].`,
      'Decoding and resizing happen in the client (footwear serve --runtime v2://HOST:PORT/MODEL), not in Triton.',
    ],
    dynamic_batching: [
      'footwear serve already sends a batch per request; Triton merges requests from several front',
      'replicas into batches of up to max_batch_size, holding one at most max_queue_delay_microseconds.',
    ],
    optimization: [
      '--gpu: ONNX Runtime hands the graph to TensorRT, which builds an engine for this GPU when the model',
      'loads (the first load takes a while) and runs it in FP16 on tensor cores, usually well ahead of FP32.',
      'FP16 moves scores slightly: compare top labels with footwear eval on CPU before shipping. Written',
      'without a GPU to try it on: check it with perf_analyzer (docs/scaling-out.md).',
    ],
  });
}
