import { SPEC_FORMAT, type ModelSpec, type PreprocessSpec } from '../core/index.ts';
import type * as tfjs from '@tensorflow/tfjs';
import { buildFeatureModel, type Tf } from '../backbone/index.ts';
import { applyHead, foldNorm, HEAD_DENSE, type FeatureNorm, type HeadConfig } from './head.ts';

/**
 * The deployable model: backbone -> pooled features -> head, as one TF.js LayersModel whose head
 * carries the weights trained on cached (standardised) features. Exported as is to ONNX.
 */
export function assembleClassifier(tf: Tf, base: tfjs.LayersModel, featureLayers: string[], head: tfjs.LayersModel, norm: FeatureNorm, config: Pick<HeadConfig, 'classes' | 'dropout' | 'seed'>): tfjs.LayersModel {
  const features = buildFeatureModel(tf, base, featureLayers);
  const probabilities = applyHead(tf, features.outputs[0], config);
  const model = tf.model({ inputs: base.inputs, outputs: probabilities, name: 'footwear_classifier' });
  const [kernel, bias] = head.getLayer(HEAD_DENSE).getWeights();
  const folded = foldNorm(kernel.dataSync() as Float32Array, bias.dataSync() as Float32Array, norm);
  model.getLayer(HEAD_DENSE).setWeights([tf.tensor(folded.kernel, kernel.shape), tf.tensor(folded.bias, bias.shape)]);
  return model;
}

/** The spec every footwear classifier carries in its metadata: labels, preprocessing, tensor names. */
export function classifierSpec(labels: string[], preprocess: PreprocessSpec, backbone: { name: string; cut: string }): ModelSpec {
  return { format: SPEC_FORMAT, labels, preprocess, inputName: 'input', outputName: 'probabilities', backbone, createdAt: new Date().toISOString() };
}
