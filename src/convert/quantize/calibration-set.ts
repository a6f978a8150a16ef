import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError, discoverDataset, type Dataset } from '../../data/index.ts';
import { ImageError, imageToInput } from '../../node/index.ts';
import { MODEL_FILES, type PreprocessSpec } from '../../core/index.ts';
import type { CalibrationData } from './calibrate.ts';

/** Enough images for stable min/max ranges; more mostly costs conversion time. */
export const DEFAULT_CALIBRATION_SAMPLES = 100;

/**
 * Up to `count` files spread evenly over the classes (round robin, so a small class gives what it
 * has and the others make up the rest) and, within a class, evenly over its sorted files, so
 * the sample is the same on every run and covers each folder from start to end.
 */
export function pickCalibrationFiles(dataset: Pick<Dataset, 'labels' | 'samples'>, count: number): string[] {
  const byClass = dataset.labels.map((_, label) => dataset.samples.filter((s) => s.label === label).map((s) => s.file).sort());
  const quota = byClass.map(() => 0);
  for (let taken = 0, progress = true; taken < count && progress; ) {
    progress = false;
    for (let c = 0; c < byClass.length && taken < count; c++) {
      if (quota[c] < byClass[c].length) {
        quota[c]++;
        taken++;
        progress = true;
      }
    }
  }
  return byClass.flatMap((files, c) => Array.from({ length: quota[c] }, (_, k) => files[Math.floor(((k + 0.5) * files.length) / quota[c])]));
}

/** The training folder that `modelDir`'s training.json records (config.data). */
export async function trainingFolder(modelDir: string): Promise<string> {
  const record = path.join(modelDir, MODEL_FILES.record);
  let data: unknown;
  try {
    data = (JSON.parse(await readFile(record, 'utf8')) as { config?: { data?: unknown } }).config?.data;
  } catch (error) {
    throw new DatasetError(`${record}: cannot read the training record (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass --calibration DIR, a folder-per-class set of typical images`);
  }
  if (typeof data !== 'string' || !data) throw new DatasetError(`${record} names no training folder (config.data); pass --calibration DIR`);
  return path.resolve(data);
}

/**
 * Decodes up to `count` calibration images of `folder` (folder-per-class) with the model's own
 * preprocessing. Unreadable images are skipped; a folder with none readable is an error.
 */
export async function loadCalibration(folder: string, preprocess: PreprocessSpec, count = DEFAULT_CALIBRATION_SAMPLES): Promise<CalibrationData & { files: string[]; skipped: number }> {
  let dataset: Dataset;
  try {
    // One class is enough to calibrate, unlike training.
    dataset = await discoverDataset(folder, { minClasses: 1 });
  } catch (error) {
    if (error instanceof DatasetError) throw new DatasetError(`calibration images: ${error.message}${/ENOENT/.test(error.message) ? '; pass --calibration DIR' : ''}`);
    throw error;
  }
  const inputs: Float32Array[] = [];
  const files: string[] = [];
  let skipped = 0;
  for (const file of pickCalibrationFiles(dataset, count)) {
    try {
      inputs.push(await imageToInput(await readFile(file), file, preprocess));
      files.push(file);
    } catch (error) {
      if (!(error instanceof ImageError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
      skipped++;
    }
  }
  if (inputs.length === 0) throw new DatasetError(`${folder}: none of the ${skipped} calibration images could be read`);
  return { inputs, shape: [preprocess.height, preprocess.width, 3], files, skipped };
}
