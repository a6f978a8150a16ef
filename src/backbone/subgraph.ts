import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './tf-module.ts';

// Rebuilding part of a Keras model from its JSON topology, with its weights. Two uses:
// - another input size: a fully convolutional network's weights do not depend on the map size,
//   but the Keras topology fixes 224 in its InputLayer, and the layers after the feature maps
//   (the bundled model's 7x7 AveragePooling2D and dense top) cannot be built at another size;
// - the trainable part of fine-tuning: the layers above a cut, as a model whose input is the
//   cut activation. Fresh layers from the topology (not the base model's own layer objects
//   applied again, which would give them a second inbound node, after which `layer.output`
//   throws) carrying copies of the base model's weights.

/**
 * Input sizes a MobileNetV2-style backbone can be rebuilt at: multiples of 32, because its five
 * stride-2 stages pad with a fixed ZeroPadding2D [[0, 1], [0, 1]] that Keras computed for even
 * map sizes (an odd size would need [[1, 1], [1, 1]]). Keras ships ImageNet weights for 96 to 224;
 * the catalogue photos are 136x102, so sizes above 224 only upscale them further.
 */
export const INPUT_SIZE_LIMITS = { min: 64, max: 512, step: 32 } as const;

export function checkInputSize(size: number): string | undefined {
  const { min, max, step } = INPUT_SIZE_LIMITS;
  if (Number.isInteger(size) && size >= min && size <= max && size % step === 0) return undefined;
  return `should be a multiple of ${step} from ${min} to ${max} (e.g. 128, 160, 192, 224), got ${size}`;
}

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

interface ModelJson {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: unknown[]; output_layers: unknown[] };
}

/** Names of the layers a Keras inbound_nodes entry reads from ([[name, node, index, kwargs], ...] per node). */
function inboundNames(layer: LayerJson): string[] {
  const names: string[] = [];
  const walk = (value: unknown): void => {
    if (!Array.isArray(value)) return;
    if (typeof value[0] === 'string' && typeof value[1] === 'number') names.push(value[0]);
    else value.forEach(walk);
  };
  walk(layer.inbound_nodes);
  return names;
}

const inputLayer = (name: string, shape: (number | null)[]): LayerJson => ({
  name,
  class_name: 'InputLayer',
  config: { batch_input_shape: shape, dtype: 'float32', sparse: false, name },
  inbound_nodes: [],
});

export interface SubgraphOptions {
  /** Layers whose outputs become the model's outputs; only their ancestors are kept. */
  outputs: readonly string[];
  /** A layer whose output becomes the model's input instead (it and everything below it go), with that output's per-image shape. */
  from?: { layer: string; shape: readonly number[] };
  /** Square input size for the model's own image input (ignored with `from`). */
  inputSize?: number;
  name?: string;
}

/** The part of `base` described by `options`, rebuilt from its topology, with `base`'s current weights. */
export async function rebuildSubgraph(tf: Tf, base: tfjs.LayersModel, options: SubgraphOptions): Promise<tfjs.LayersModel> {
  const topology = base.toJSON(null, false) as unknown as ModelJson;
  const byName = new Map(topology.config.layers.map((l) => [l.name, l]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name)) return;
    const layer = byName.get(name);
    if (!layer) throw new Error(`backbone has no layer "${name}"`);
    needed.add(name);
    if (name !== options.from?.layer) inboundNames(layer).forEach(visit);
  };
  options.outputs.forEach(visit);
  let layers = topology.config.layers.filter((l) => needed.has(l.name));
  let inputs = topology.config.input_layers;
  if (options.from) {
    const cut = options.from.layer;
    if (!needed.has(cut)) throw new Error(`no output of [${options.outputs.join(', ')}] depends on ${cut}`);
    layers = layers.map((l) => (l.name === cut ? inputLayer(cut, [null, ...options.from!.shape]) : l));
    const stray = layers.find((l) => l.class_name === 'InputLayer' && l.name !== cut);
    if (stray) throw new Error(`[${options.outputs.join(', ')}] also read${stray.name === topology.config.layers[0].name ? ' the image' : ` ${stray.name}`}, not only ${cut}`);
    inputs = [[cut, 0, 0]];
  } else if (options.inputSize !== undefined) {
    layers = layers.map((l) => {
      if (l.class_name !== 'InputLayer') return l;
      const shape = l.config.batch_input_shape as (number | null)[];
      return inputLayer(l.name, [null, options.inputSize as number, options.inputSize as number, shape[3]]);
    });
  }
  const json: ModelJson = {
    ...topology,
    config: { ...topology.config, name: options.name ?? topology.config.name, layers, input_layers: inputs, output_layers: options.outputs.map((n) => [n, 0, 0]) },
  };
  const model = await tf.models.modelFromJSON({ modelTopology: json as unknown as tfjs.io.ModelJSON['modelTopology'] });
  tf.tidy(() => {
    for (const layer of model.layers) {
      if (layer.weights.length > 0) layer.setWeights(base.getLayer(layer.name).getWeights());
    }
  });
  return model;
}

/**
 * `base` rebuilt for `size` x `size` inputs, pruned to the layers `keep` needs (its outputs become
 * `keep`); `base` itself when it already takes that size.
 */
export async function atInputSize(tf: Tf, base: tfjs.LayersModel, size: number, keep: readonly string[]): Promise<tfjs.LayersModel> {
  const problem = checkInputSize(size);
  if (problem) throw new RangeError(`input size ${problem}`);
  const [, height, width] = base.inputs[0].shape;
  if (height === size && width === size) return base;
  try {
    return await rebuildSubgraph(tf, base, { outputs: keep, inputSize: size });
  } catch (error) {
    throw new RangeError(`the backbone cannot be rebuilt for ${size}x${size} inputs (is it fully convolutional up to ${keep.join(', ')}?): ${(error as Error).message}`, { cause: error });
  }
}
