import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './tf-module.ts';

interface KerasArtifacts {
  modelTopology: { model_config?: unknown } & Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tfjs.io.WeightsManifestEntry[] }[];
}

/**
 * Reads the Keras MobileNetV2 (224, alpha 1.0, uint8-quantised) that ships inside the `nsfwjs`
 * package. Its files are UMD scripts that carry the JSON topology and a base64 weight shard, and
 * its package `exports` hide them, so they are required by absolute path.
 */
function readNsfwjsMobilenet(): KerasArtifacts & { weightData: ArrayBuffer } {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('nsfwjs');
  const root = entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`));
  const dir = path.join(root, 'dist', 'models', 'mobilenet_v2');
  const artifacts = require(path.join(dir, 'model.min.js')) as KerasArtifacts;
  const shard = require(path.join(dir, 'group1-shard1of1.min.js')) as string;
  const bytes = Buffer.from(shard, 'base64');
  return { ...artifacts, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
}

async function readLayersModelDir(modelJson: string): Promise<KerasArtifacts & { weightData: ArrayBuffer }> {
  const artifacts = JSON.parse(await readFile(modelJson, 'utf8')) as KerasArtifacts;
  const parts: Buffer[] = [];
  for (const group of artifacts.weightsManifest) {
    for (const p of group.paths) parts.push(await readFile(path.join(path.dirname(modelJson), p)));
  }
  const all = Buffer.concat(parts);
  return { ...artifacts, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}

/**
 * Loads a backbone as a tf.LayersModel: 'mobilenet' (the bundled weights) or a path to any TF.js
 * LayersModel (a model.json or its folder). Quantised weights are dequantised by TF.js on load.
 */
export async function loadBaseModel(tf: Tf, source: string): Promise<tfjs.LayersModel> {
  const artifacts =
    source === 'mobilenet'
      ? readNsfwjsMobilenet()
      : await readLayersModelDir(source.endsWith('.json') ? source : path.join(source, 'model.json'));
  const weightSpecs = artifacts.weightsManifest.flatMap((g) => g.weights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.modelTopology, weightSpecs, weightData: artifacts.weightData }));
}

/** The part of `model` from its input up to (and including) the layer named `cut`. */
export function truncate(tf: Tf, model: tfjs.LayersModel, cut: string): tfjs.LayersModel {
  let layer;
  try {
    layer = model.getLayer(cut);
  } catch {
    const names = model.layers.map((l) => l.name);
    throw new Error(`backbone has no layer "${cut}"; its layers end with: ${names.slice(-8).join(', ')}`);
  }
  return tf.model({ inputs: model.inputs, outputs: layer.output as tfjs.SymbolicTensor, name: `backbone_${cut}` });
}
