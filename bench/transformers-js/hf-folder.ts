// A footwear model as a Hugging Face model folder that transformers.js's image-classification
// pipeline loads from disk: config.json (labels), preprocessor_config.json (its image processor's
// settings) and onnx/model.onnx (our graph, rewired to the tensor names and layout it feeds and reads).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { onnx, type OnnxProto } from '../../src/convert/onnx.ts';
import { SPEC_METADATA_KEY, specFromModel, UserError, type ModelSpec } from '../../src/core/index.ts';
import { readModelFile, resolveModelFile } from '../../src/node/index.ts';

/** The input transformers.js feeds an image model: NCHW, as PyTorch exports are. */
export const PIXEL_VALUES = 'pixel_values';
/** The output its classifier models read; the pipeline applies a softmax to it itself. */
export const LOGITS = 'logits';

/** config.json: what AutoModelForImageClassification needs to pick the class and name the labels. */
export function hfConfig(spec: ModelSpec): Record<string, unknown> {
  return {
    // MobileNetV2ForImageClassification: the backbone footwear trains on, and a model class that
    // passes `logits` straight through.
    model_type: 'mobilenet_v2',
    architectures: ['MobileNetV2ForImageClassification'],
    num_labels: spec.labels.length,
    id2label: Object.fromEntries(spec.labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(spec.labels.map((label, i) => [label, i])),
    image_size: spec.preprocess.height,
    num_channels: 3,
  };
}

/**
 * preprocessor_config.json. The processor resizes straight to the input size: it has no
 * letterbox. It can keep the aspect ratio (size.longest_edge) and pad, but only at the bottom and
 * right and with 0 after rescaling (black), never centred on the model's background colour, so a
 * model trained on letterboxed photos gets stretched ones, as any fixed-size classifier on the Hub is fed.
 */
export function preprocessorConfig(spec: ModelSpec): Record<string, unknown> {
  const { height, width, range } = spec.preprocess;
  const [min, max] = range;
  // Pixels p in 0..255 must reach min + p/255 * (max - min); after the processor's rescale
  // (x = p/255), normalising (x - mean) / std does that with mean = -min/(max-min), std = 1/(max-min).
  const identity = min === 0 && max === 1;
  const mean = -min / (max - min);
  const std = 1 / (max - min);
  return {
    image_processor_type: 'MobileNetV2ImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height, width },
    resample: 2, // bilinear, as footwear resizes
    do_center_crop: false,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: !identity,
    image_mean: [mean, mean, mean],
    image_std: [std, std, std],
    do_pad: false,
  };
}

/** Valid ONNX, but not a footwear graph transformers.js can be handed. */
export class HfExportError extends UserError {
  override name = 'HfExportError';
}

function dimsOf(value: OnnxProto.IValueInfoProto): OnnxProto.TensorShapeProto.IDimension[] {
  return value.type?.tensorType?.shape?.dim ?? [];
}

/**
 * Our graph takes NHWC `spec.inputName` and ends in a Softmax named `spec.outputName`. The copy
 * takes NCHW `pixel_values` through a Transpose into the old input tensor (ONNX Runtime folds it
 * into the graph's own NHWC->NCHW Transpose) and returns the Softmax's input as `logits` through
 * an Identity, so the pipeline's own softmax gives our probabilities, not a softmax of them.
 */
export function wrapForTransformersJs(bytes: Uint8Array, spec: ModelSpec, source: string): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new HfExportError(`${source}: no graph`);
  const input = (graph.input ?? []).find((i) => i.name === spec.inputName);
  const output = (graph.output ?? []).find((o) => o.name === spec.outputName);
  if (!input || !output) throw new HfExportError(`${source}: graph lacks input "${spec.inputName}" or output "${spec.outputName}" named in its spec`);
  const [n, h, w, c] = dimsOf(input);
  if (dimsOf(input).length !== 4 || Number(c?.dimValue) !== 3) throw new HfExportError(`${source}: input "${spec.inputName}" should be [N, H, W, 3]`);
  const nodes = graph.node ?? [];
  const softmax = nodes.findIndex((node) => node.output?.includes(spec.outputName));
  if (nodes[softmax]?.opType !== 'Softmax') {
    throw new HfExportError(`${source}: output "${spec.outputName}" should come from a Softmax, got ${nodes[softmax]?.opType ?? 'no node'}`);
  }
  const scores = nodes[softmax].input?.[0] as string;
  const transpose = onnx.NodeProto.create({
    name: 'pixel_values/to_NHWC',
    opType: 'Transpose',
    input: [PIXEL_VALUES],
    output: [spec.inputName],
    attribute: [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 3, 1] })],
  });
  const identity = onnx.NodeProto.create({ name: 'logits/identity', opType: 'Identity', input: [scores], output: [LOGITS] });
  graph.node = [transpose, ...nodes.slice(0, softmax), ...nodes.slice(softmax + 1), identity];
  input.name = PIXEL_VALUES;
  input.type = tensorType([n, c, h, w]);
  output.name = LOGITS;
  // The copy no longer takes what its footwear spec describes; only plain metadata stays.
  model.metadataProps = (model.metadataProps ?? []).filter((p) => p.key !== SPEC_METADATA_KEY);
  return onnx.ModelProto.encode(model).finish();
}

function tensorType(dim: OnnxProto.TensorShapeProto.IDimension[]): OnnxProto.ITypeProto {
  return { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } };
}

export interface HfFolder {
  dir: string;
  spec: ModelSpec;
}

/** Writes `dir` (config.json, preprocessor_config.json, onnx/model.onnx) from a footwear model folder or file. */
export async function writeHfFolder(model: string, dir: string): Promise<HfFolder> {
  const file = await resolveModelFile(model);
  const bytes = await readModelFile(file);
  const spec = specFromModel(bytes, file);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(path.join(dir, 'config.json'), json(hfConfig(spec)));
  await writeFile(path.join(dir, 'preprocessor_config.json'), json(preprocessorConfig(spec)));
  await writeFile(path.join(dir, 'onnx', 'model.onnx'), wrapForTransformersJs(bytes, spec, file));
  return { dir, spec };
}
