import type * as tfjs from '@tensorflow/tfjs';
import { rebuildSubgraph, type Tf } from '../../backbone/index.ts';
import { TrainError } from '../options.ts';

// Where the backbone is cut for fine-tuning. Below the cut everything is frozen and runs once per
// image in ONNX Runtime; from the cut up to the feature layers the layers are trainable and run in
// TF.js every epoch. The trainable part is a separate model of fresh layers with the base model's
// pretrained weights (see rebuildSubgraph for why not the base model's own layer objects); the
// tuned weights are copied back into the base model by layer name.

export interface BackboneSplit {
  /** The block that starts the trainable part, e.g. 'block_13'. */
  block: string;
  /** The layer whose output is the cut (the trainable part's input), e.g. 'block_12_add'. */
  cutLayer: string;
  /** [height, width, channels] of the cut activation for one image. */
  cutShape: [number, number, number];
  /** Feature layers below the cut: their pooled activations never change, so they are cached. */
  frozenFeatures: string[];
  /** Names of the trainable layers, in topological order. */
  trainable: string[];
  /** Feature layers, in the order the head reads them, with their channel counts. */
  features: { name: string; channels: number; frozen: boolean }[];
}

const producers = (layer: tfjs.layers.Layer): string[] => layer.inboundNodes.flatMap((node) => node.inboundLayers.map((l) => l.name));

/** Block prefixes of the base model that have layers named `<prefix>_...`, e.g. block_1..block_16 for MobileNetV2. */
export function blockNames(base: tfjs.LayersModel): string[] {
  const names = new Set<string>();
  for (const layer of base.layers) {
    const match = /^(block_\d+)_/.exec(layer.name);
    if (match) names.add(match[1]);
  }
  return [...names];
}

function channelsOf(layer: tfjs.layers.Layer): number {
  const shape = layer.outputShape as number[];
  return shape[shape.length - 1];
}

/**
 * Splits `base` (whose layers are in topological order, as a functional model's are) at the input
 * of `block`: the trainable part is every layer that depends on that input and that a feature
 * layer needs. The cut must be a single tensor (no skip connection may cross it), which holds at
 * every MobileNetV2 block boundary: a residual Add reads the block's own input.
 */
export function splitBackbone(base: tfjs.LayersModel, featureLayers: readonly string[], block: string): BackboneSplit {
  const blocks = blockNames(base);
  const first = base.layers.find((l) => l.name.startsWith(`${block}_`));
  if (!first) throw new TrainError(`--fine-tune ${block}: the backbone has no block of that name; blocks: ${blocks.join(', ') || '(none named block_N)'}`);
  const inputs = producers(first);
  if (inputs.length !== 1) throw new TrainError(`--fine-tune ${block}: its first layer ${first.name} reads ${inputs.length} tensors; the cut must be one tensor`);
  const cutLayer = inputs[0];

  const byName = new Map(base.layers.map((l) => [l.name, l]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name)) return;
    needed.add(name);
    producers(byName.get(name) as tfjs.layers.Layer).forEach(visit);
  };
  featureLayers.forEach(visit);
  const downstream = new Set<string>();
  for (const layer of base.layers) {
    if (producers(layer).some((p) => p === cutLayer || downstream.has(p))) downstream.add(layer.name);
  }
  const trainable = base.layers.filter((l) => needed.has(l.name) && downstream.has(l.name));
  const trainableNames = new Set(trainable.map((l) => l.name));
  if (!trainable.some((l) => featureLayers.includes(l.name))) {
    const last = featureLayers[featureLayers.length - 1];
    throw new TrainError(`--fine-tune ${block}: no feature layer (${featureLayers.join(', ')}) is above its input, so nothing would train; start at or below the block of ${last}`);
  }
  for (const layer of trainable) {
    const crossing = producers(layer).find((p) => p !== cutLayer && !trainableNames.has(p));
    if (crossing) throw new TrainError(`--fine-tune ${block}: ${layer.name} reads ${crossing} from below the cut; start at another block`);
  }
  const cutShape = (byName.get(cutLayer) as tfjs.layers.Layer).outputShape as number[];
  if (cutShape.length !== 4 || cutShape.slice(1).some((d) => !(d > 0))) throw new TrainError(`--fine-tune ${block}: the cut ${cutLayer} has shape [${cutShape}]; a feature map of known size is needed`);
  const features = featureLayers.map((name) => ({ name, channels: channelsOf(byName.get(name) as tfjs.layers.Layer), frozen: !trainableNames.has(name) }));
  return {
    block,
    cutLayer,
    cutShape: cutShape.slice(1) as [number, number, number],
    frozenFeatures: features.filter((f) => f.frozen).map((f) => f.name),
    trainable: trainable.map((l) => l.name),
    features,
  };
}

/**
 * The frozen part as one model for ONNX export, from the image to one row per image:
 * [flattened cut activation (H*W*C, channels last) | pooled activations of every feature layer].
 * The pooled features are what the frozen-feature head trainer warms the head up on; those of the
 * feature layers below the cut also feed the trainable part. One output, because the exporter
 * writes single-output graphs and one pass serves both.
 */
export function buildFrozenModel(tf: Tf, base: tfjs.LayersModel, split: BackboneSplit): tfjs.LayersModel {
  const cut = base.getLayer(split.cutLayer).output as tfjs.SymbolicTensor;
  const parts = [tf.layers.flatten({ name: 'cut_flat' }).apply(cut) as tfjs.SymbolicTensor];
  for (const f of split.features) {
    parts.push(tf.layers.globalAveragePooling2d({ name: `${f.name}_pool` }).apply(base.getLayer(f.name).output as tfjs.SymbolicTensor) as tfjs.SymbolicTensor);
  }
  const row = tf.layers.concatenate({ name: 'frozen_row' }).apply(parts) as tfjs.SymbolicTensor;
  return tf.model({ inputs: base.inputs, outputs: row, name: 'frozen_part' });
}

export interface TrainablePart {
  /** Inputs: the cut activation, then one pooled vector per frozen feature layer; output: the concatenated pooled features. */
  model: tfjs.LayersModel;
  /** The cloned layers, by name, that carry weights. */
  layers: Map<string, tfjs.layers.Layer>;
}

/**
 * Builds the trainable part with the base model's current weights: the layers above the cut,
 * rebuilt from the topology (fresh layers, see rebuildSubgraph), then pooling and concatenation in
 * the head's feature order, the frozen feature layers' pooled activations entering as inputs.
 */
export async function buildTrainablePart(tf: Tf, base: tfjs.LayersModel, split: BackboneSplit): Promise<TrainablePart> {
  const trainableFeatures = split.features.filter((f) => !f.frozen).map((f) => f.name);
  const blocks = await rebuildSubgraph(tf, base, { outputs: trainableFeatures, from: { layer: split.cutLayer, shape: split.cutShape }, name: 'trainable_blocks' });
  const frozenInputs = split.features.filter((f) => f.frozen).map((f) => tf.input({ shape: [f.channels], name: `${f.name}_pooled` }));
  let frozenIndex = 0;
  const pooled = split.features.map((f) =>
    f.frozen
      ? frozenInputs[frozenIndex++]
      : (tf.layers.globalAveragePooling2d({ name: `${f.name}_pool` }).apply(blocks.getLayer(f.name).output as tfjs.SymbolicTensor) as tfjs.SymbolicTensor),
  );
  const output = pooled.length === 1 ? pooled[0] : (tf.layers.concatenate({ name: 'features' }).apply(pooled) as tfjs.SymbolicTensor);
  const model = tf.model({ inputs: [...blocks.inputs, ...frozenInputs], outputs: output, name: 'trainable_part' });
  return { model, layers: new Map(blocks.layers.filter((l) => l.weights.length > 0).map((l) => [l.name, l])) };
}

/** Copies the trainable part's (tuned) weights into the base model's layers of the same names. */
export function copyIntoBase(base: tfjs.LayersModel, part: TrainablePart): void {
  for (const [name, layer] of part.layers) base.getLayer(name).setWeights(layer.getWeights());
}
