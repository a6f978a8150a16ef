import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBaseModel, type Tf } from '../backbone/index.ts';
import { TrainError } from './options.ts';

const EXPECTED = "'mobilenet' (the bundled MobileNetV2) or a TF.js LayersModel (its model.json, or the folder holding it)";

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();

/** The model.json a --backbone path names. */
function modelJson(source: string): string {
  return source.endsWith('.json') ? source : path.join(source, 'model.json');
}

/**
 * Checked before the dataset is read, so `--backbone resnet` fails at once with what was
 * expected, not minutes later with ENOENT on resnet/model.json.
 */
export function checkBackbone(source: string): void {
  if (source === 'mobilenet') return;
  const file = modelJson(source);
  if (!existsSync(file)) throw new TrainError(`--backbone should be ${EXPECTED}, got "${source}": ${file} does not exist`);
}

/** Loads the backbone; a file that is not a readable LayersModel is the user's, named as such. */
export async function loadBackbone(tf: Tf, source: string): Promise<tfjs.LayersModel> {
  if (source === 'mobilenet') return loadBaseModel(tf, source);
  checkBackbone(source);
  try {
    return await loadBaseModel(tf, source);
  } catch (error) {
    throw new TrainError(`--backbone should be ${EXPECTED}, got "${source}": ${modelJson(source)} cannot be loaded (${firstLine(error)})`);
  }
}
