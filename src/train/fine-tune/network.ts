import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../backbone/index.ts';
import type { FeatureNorm } from '../head.ts';
import type { ActivationSet } from './activations.ts';
import type { GroupedAdam } from './adam.ts';
import type { BackboneSplit, TrainablePart } from './split.ts';

// The network trained in the second phase: cut activation -> unfrozen blocks -> pooled features
// -> the warm-up's standardisation (fixed) -> dropout -> the head's Dense layer (softmax).
//
// Batch normalisation stays in inference mode. In TF.js, `layer.trainable = false` does NOT do
// that (unlike Keras 2.x): BatchNormalization.call looks only at the `training` argument, and with
// training = true it normalises with the batch's statistics and writes new moving mean/variance
// (momentum 0.999) whatever `trainable` says; model.fit passes training = true to every layer.
// So the trainable part is always applied with { training: false } (every BN uses its moving
// statistics and never writes them), dropout is applied here by hand, and gradients go only to
// the variables listed in `trainableVariables` (conv and depthwise kernels, BN gamma and beta,
// the head): the moving statistics are not variables anyone updates.

export interface Network {
  split: BackboneSplit;
  part: TrainablePart;
  dense: tfjs.layers.Layer;
  /** The warm-up's feature standardisation, folded into the Dense layer only at export. */
  mean: tfjs.Tensor;
  std: tfjs.Tensor;
  dropout: number;
  classes: number;
}

export function makeNetwork(tf: Tf, split: BackboneSplit, part: TrainablePart, dense: tfjs.layers.Layer, norm: FeatureNorm, dropout: number, classes: number): Network {
  return { split, part, dense, mean: tf.tensor1d(norm.mean), std: tf.tensor1d(norm.std), dropout, classes };
}

/** Variables of the unfrozen blocks (not BN moving statistics), then of the head. */
export function trainableVariables(net: Network): { backbone: tfjs.Variable[]; head: tfjs.Variable[] } {
  const read = (layer: tfjs.layers.Layer) => layer.trainableWeights.map((w) => w.read() as tfjs.Variable);
  return { backbone: [...net.part.layers.values()].flatMap(read), head: read(net.dense) };
}

export interface Batch {
  count: number;
  activations: Float32Array;
  /** Pooled activations of each frozen feature layer, [count, channels] each. */
  frozen: Float32Array[];
  labels: Int32Array;
}

/** Reads photos `indices` of `set`: cut activations from disk, frozen pooled features from memory. */
export async function readBatch(net: Network, set: ActivationSet, indices: readonly number[]): Promise<Batch> {
  const { features, dim, labels } = set.features;
  const frozen: Float32Array[] = [];
  let offset = 0;
  for (const f of net.split.features) {
    if (f.frozen) {
      const out = new Float32Array(indices.length * f.channels);
      indices.forEach((row, i) => out.set(features.subarray(row * dim + offset, row * dim + offset + f.channels), i * f.channels));
      frozen.push(out);
    }
    offset += f.channels;
  }
  return { count: indices.length, activations: await set.read(indices), frozen, labels: Int32Array.from(indices, (i) => labels[i]) };
}

/** Pooled features of a batch, every BN in inference mode. */
function pooled(tf: Tf, net: Network, batch: Batch): tfjs.Tensor2D {
  const x = tf.tensor4d(batch.activations, [batch.count, ...net.split.cutShape]);
  const frozenChannels = net.split.features.filter((f) => f.frozen).map((f) => f.channels);
  const frozen = batch.frozen.map((values, i) => tf.tensor2d(values, [batch.count, frozenChannels[i]]));
  return net.part.model.apply([x, ...frozen], { training: false }) as tfjs.Tensor2D;
}

function probabilities(tf: Tf, net: Network, features: tfjs.Tensor, dropoutSeed?: number): tfjs.Tensor2D {
  let z = tf.div(tf.sub(features, net.mean), net.std);
  if (dropoutSeed !== undefined && net.dropout > 0) z = tf.dropout(z, net.dropout, undefined, dropoutSeed);
  return net.dense.apply(z) as tfjs.Tensor2D;
}

/**
 * One step: class-weighted cross-entropy plus the head's L2 term (as model.fit would add it),
 * gradients for every trainable variable, one Adam update. Dropout's mask comes from
 * `dropoutSeed`, which the caller varies per step (a fixed seed would repeat one mask).
 */
export function trainStep(tf: Tf, net: Network, adam: GroupedAdam, batch: Batch, classWeights: Record<number, number>, dropoutSeed: number): { loss: number; correct: number } {
  let correct: tfjs.Tensor | undefined;
  const { value, grads } = tf.tidy(() => {
    const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), net.classes).toFloat();
    const weights = tf.tensor1d(Float32Array.from(batch.labels, (l) => classWeights[l] ?? 1));
    return tf.variableGrads(() => {
      const p = probabilities(tf, net, pooled(tf, net, batch), dropoutSeed);
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')));
      const crossEntropy = tf.div(tf.sum(tf.mul(tf.metrics.categoricalCrossentropy(y, p), weights)), batch.count);
      const regularization = net.dense.calculateLosses();
      return (regularization.length > 0 ? tf.add(crossEntropy, tf.addN(regularization)) : crossEntropy) as tfjs.Scalar;
    }, adam.variables);
  });
  adam.apply(adam.variables.map((v) => grads[v.name]));
  const loss = value.dataSync()[0];
  const hits = correct ? correct.dataSync()[0] : 0;
  tf.dispose([value, correct as tfjs.Tensor, ...Object.values(grads)]);
  return { loss, correct: hits };
}

/** Pooled features of every photo of `set` through the current blocks, [n, dim] row-major. */
export async function poolSet(tf: Tf, net: Network, set: ActivationSet, batchSize = 64): Promise<Float32Array> {
  const n = set.size;
  let out: Float32Array | undefined;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const batch = await readBatch(net, set, indices);
    const values = tf.tidy(() => pooled(tf, net, batch).dataSync() as Float32Array);
    const dim = values.length / batch.count;
    out ??= new Float32Array(n * dim);
    out.set(values, start * dim);
  }
  return out ?? new Float32Array(0);
}

/** Unweighted mean cross-entropy and accuracy of the head on pooled `features` (no dropout). */
export function score(tf: Tf, net: Network, features: Float32Array, labels: Int32Array): { loss: number; accuracy: number } {
  const n = labels.length;
  return tf.tidy(() => {
    const p = probabilities(tf, net, tf.tensor2d(features, [n, features.length / n]));
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), net.classes).toFloat();
    const loss = tf.mean(tf.metrics.categoricalCrossentropy(y, p)).dataSync()[0];
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')).dataSync()[0];
    return { loss, accuracy };
  });
}
