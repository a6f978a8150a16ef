import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './tf-module.ts';

/**
 * Where the bundled MobileNetV2 is tapped for features, and how its input is scaled; chosen by
 * measurement on a validation split of the catalogue photos (BENCHMARKS.md, "Choosing the cut
 * point"): the expanded activations of blocks 12-14 pooled and concatenated beat any single layer
 * (98.2% against 97.7% for the best, block_13_expand_relu, and 94.0% for out_relu). Blocks 11-16
 * of these weights were tuned by nsfwjs's authors for another task, which is why mid-network
 * features transfer better to shoes than the final ones. That tuning used [0, 1] inputs, and
 * [0, 1] also scored higher than Keras's [-1, 1] in the earlier linear probes (out_relu: 94.9% vs
 * 93.8%, issue #2) and in a 450-photo probe of six layers.
 */
export const MOBILENET_FEATURES = {
  layers: ['block_12_expand_relu', 'block_13_expand_relu', 'block_14_expand_relu'],
  range: [0, 1] as [number, number],
};

/**
 * A model from the backbone's input to the global-average-pooled activations of `layers`,
 * concatenated in the order given. Pooling inside the model keeps cached features small.
 */
export function buildFeatureModel(tf: Tf, base: tfjs.LayersModel, layers: string[]): tfjs.LayersModel {
  const pooled = layers.map((name) => {
    const layer = base.getLayer(name);
    if (!layer) throw new Error(`backbone has no layer "${name}"`);
    return tf.layers.globalAveragePooling2d({ name: `${name}_pool` }).apply(layer.output as tfjs.SymbolicTensor) as tfjs.SymbolicTensor;
  });
  const output = pooled.length === 1 ? pooled[0] : (tf.layers.concatenate({ name: 'features' }).apply(pooled) as tfjs.SymbolicTensor);
  return tf.model({ inputs: base.inputs, outputs: output, name: 'features' });
}

/**
 * The layers to pool for features when none are named: the measured default for the bundled
 * MobileNetV2; for another backbone, its last layer with a feature map (rank-4 output), which
 * is where a classification head would normally sit.
 */
export function defaultFeatureLayers(base: tfjs.LayersModel, backbone: string): string[] {
  if (backbone === 'mobilenet') return MOBILENET_FEATURES.layers;
  const maps = base.layers.filter((l) => {
    const shape = l.outputShape;
    return Array.isArray(shape) && !Array.isArray(shape[0]) && shape.length === 4;
  });
  if (maps.length === 0) throw new Error(`backbone ${backbone} has no layer with a 4-D (feature map) output to pool`);
  return [maps[maps.length - 1].name];
}
