import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../node/index.ts';

export const TFJS_DIR = 'tfjs';

/**
 * Saves a LayersModel in the TF.js format (model.json + one weights file) with `metadata` in
 * model.json's userDefinedMetadata, so the TF.js copy describes itself like the ONNX one.
 * Weights are written before model.json: a reader never finds a model.json without its weights.
 */
export async function saveTfjsModel(model: tfjs.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  await model.save({
    save: async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      await writeFileAtomic(path.join(dir, 'weights.bin'), new Uint8Array(weightData));
      await writeJsonAtomic(path.join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'footwear',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: metadata,
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
}

export async function readTfjsMetadata(dir: string): Promise<Record<string, unknown>> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata?: Record<string, unknown> };
  return json.userDefinedMetadata ?? {};
}
