import type * as tfjs from '@tensorflow/tfjs';
import { UnsupportedLayerError } from './errors.ts';
import { GraphBuilder, graphDims } from './graph.ts';
import type { Layout } from './layout.ts';
import { onnx } from './onnx.ts';
import { planGraph, type Plan, type Step } from './plan.ts';
import { mapperFor, registeredClasses, type ExportSettings, type Foldable, type LayerContext, type WeightValue } from './registry.ts';
import './mappers/index.ts';

export interface ExportOptions {
  /** Written to ModelProto.metadata_props (e.g. the footwear model spec). */
  metadata?: Record<string, string>;
  inputName?: string;
  outputName?: string;
  /** ONNX default-domain opset, 13 to 18; every operator emitted means the same across them. */
  opset?: number;
  producerName?: string;
  modelName?: string;
}

const MIN_OPSET = 13;
const MAX_OPSET = 18;
/** IR version 8 (ONNX 1.10 to 1.13) is the IR those opsets shipped with; onnxruntime reads it. */
const IR_VERSION = 8;

/** Class names with a mapper; every other layer class makes export fail up front. */
export function supportedLayers(): string[] {
  return registeredClasses();
}

/**
 * Converts a TF.js LayersModel into serialized ONNX ModelProto bytes. The graph input is NHWC
 * like the Keras model, with a dynamic batch axis; the single output equals model.predict().
 */
export function exportLayersModel(model: tfjs.LayersModel, options: ExportOptions = {}): Uint8Array {
  const settings: ExportSettings = {
    inputName: options.inputName ?? 'input',
    outputName: options.outputName ?? 'output',
    opset: options.opset ?? MIN_OPSET,
  };
  if (!Number.isInteger(settings.opset) || settings.opset < MIN_OPSET || settings.opset > MAX_OPSET) {
    throw new RangeError(`opset should be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${settings.opset}`);
  }
  if (settings.inputName === settings.outputName) throw new Error(`input and output names must differ, both are "${settings.inputName}"`);

  const plan = planGraph(model);
  // Every layer is checked before anything is emitted, so an unsupported one fails fast.
  const mappers = plan.steps.map((step) => {
    const className = step.layer.getClassName();
    const mapper = mapperFor(className);
    if (!mapper) throw new UnsupportedLayerError(step.layer.name, className, supportedLayers());
    return mapper;
  });

  const graph = new GraphBuilder();
  const tensors = new Map<number, string>();
  const folds = new Map<number, Foldable>();
  plan.steps.forEach((step, i) => {
    const ctx = layerContext(step, plan, graph, settings, tensors, folds);
    mappers[i](ctx);
    if (!tensors.has(step.output.id)) throw new Error(`internal: the ${ctx.className} mapper set no output for "${ctx.name}"`);
  });

  const result = graph.inLayout(tensors.get(plan.output.id) as string, 'native');
  graph.addOutput(result, settings.outputName, graphDims(plan.output.shape, 'out'));

  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: settings.opset }],
    producerName: options.producerName ?? 'footwear',
    graph: graph.toGraphProto(options.modelName ?? model.name),
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

function layerContext(
  step: Step,
  plan: Plan,
  graph: GraphBuilder,
  settings: ExportSettings,
  tensors: Map<number, string>,
  folds: Map<number, Foldable>,
): LayerContext {
  const { layer } = step;
  const className = layer.getClassName();
  const inputTensor = (index: number): string => {
    const input = step.inputs[index];
    if (!input) throw new Error(`internal: layer "${layer.name}" has no input ${index}`);
    const name = tensors.get(input.id);
    if (!name) throw new Error(`internal: input ${index} of "${layer.name}" was not emitted before it`);
    return name;
  };
  let weights: Map<string, WeightValue> | undefined;

  const ctx: LayerContext = {
    layer,
    className,
    name: layer.name,
    config: layer.getConfig(),
    graph,
    settings,
    inputShapes: step.inputs.map((t) => t.shape),
    outputShape: step.output.shape,
    inputCount: step.inputs.length,
    input: (index: number, layout?: Layout) => (layout ? graph.inLayout(inputTensor(index), layout) : inputTensor(index)),
    inputLayout: (index: number) => graph.info(inputTensor(index)).layout,
    setOutput: (tensor: string) => {
      tensors.set(step.output.id, tensor);
    },
    weight: (key: string) => {
      weights ??= readWeights(layer);
      return weights.get(key);
    },
    requireWeight: (key: string) => ctx.weight(key) ?? ctx.unsupported(`it has no "${key}" weight`),
    foldable: (index: number) => {
      const input = step.inputs[index];
      return plan.consumers.get(input.id) === 1 ? folds.get(input.id) : undefined;
    },
    offerFold: (fold: Foldable) => {
      folds.set(step.output.id, fold);
    },
    unsupported: (reason: string): never => {
      throw new UnsupportedLayerError(layer.name, className, supportedLayers(), reason);
    },
  };
  return ctx;
}

/** Layer weights keyed by their Keras name minus the layer scope ('bn/gamma' -> 'gamma'). */
function readWeights(layer: tfjs.layers.Layer): Map<string, WeightValue> {
  const result = new Map<string, WeightValue>();
  for (const variable of layer.weights) {
    // Models converted from Python Keras may keep TF's ':0' output suffix on weight names.
    const key = variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1).replace(/:\d+$/, '');
    // A copy: BatchNorm folding rescales kernels in place and must not touch the live model.
    const data = new Float32Array(variable.read().dataSync());
    result.set(key, { data, shape: variable.shape.map((d) => d as number) });
  }
  return result;
}
