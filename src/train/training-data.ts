import { discoverDataset, findCrossClassDuplicates, stratifiedSplit, type CrossClassDuplicate, type Dataset, type Sample } from '../data/index.ts';
import type { TrainOptions } from './options.ts';

export interface TrainingData {
  dataset: Dataset;
  trainSamples: Sample[];
  valSamples: Sample[];
  /** Byte-identical images filed under different classes (a warning, not an error). */
  duplicates: CrossClassDuplicate[];
}

/**
 * The dataset as both trainers (head and fine-tuning) see it: listed, split per class with the
 * run's seed, checked for images filed under two classes, and described in one log line.
 * `afterListing` runs once the folder is listed, before the slower duplicate check.
 */
export async function trainingData(options: TrainOptions, log: (line: string) => void, afterListing?: () => Promise<void>): Promise<TrainingData> {
  const dataset = await discoverDataset(options.data);
  await afterListing?.();
  const { train: trainSamples, val: valSamples } = stratifiedSplit(dataset.samples, options.valSplit, options.seed);
  const duplicates = await findCrossClassDuplicates(dataset.samples);
  if (duplicates.length > 0) {
    const first = duplicates[0].files.map((f) => `${f.file} (${dataset.labels[f.label]})`).join(' = ');
    log(`warning: ${duplicates.length} image(s) appear under more than one class, e.g. ${first}`);
  }
  log(`dataset ${options.data}: ${dataset.samples.length} images in ${dataset.labels.length} classes (${dataset.labels.join(', ')}); ${trainSamples.length} train, ${valSamples.length} validation`);
  return { dataset, trainSamples, valSamples, duplicates };
}
