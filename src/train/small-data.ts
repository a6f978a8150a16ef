import type { Sample } from '../data/index.ts';
import type { TrainOptions } from './options.ts';

/**
 * Below this many training photos in its smallest class, a dataset counts as small: `--augment
 * auto` then extracts SMALL_DATA_VIEWS views of each photo. Measured on 25, 40 and 70 photos a class
 * of the catalogue set, scored on 300 other photos a class of its train folder (BENCHMARKS.md):
 * 8 views lifted accuracy by 5-9 points, where on the full set (3,300 a class) they cost 8x the
 * extraction for no measured gain.
 */
export const SMALL_DATA_PHOTOS = 100;
export const SMALL_DATA_VIEWS = 8;

/** The head wants at least this many steps an epoch, so early stopping watches a trained model. */
const MIN_STEPS_PER_EPOCH = 128;
const MIN_BATCH = 8;
const MAX_AUTO_BATCH = 64;

export interface DataSettings {
  augment: number;
  batchSize: number;
  /** The line that says what 'auto' chose and why; undefined when nothing was automatic. */
  note?: string;
}

/**
 * Resolves `--augment auto` and `--batch-size auto` for this dataset. With 40 photos a class and a
 * batch of 64 the head took 2 steps an epoch and stopped, underfitted, after 26 steps in all.
 */
export function settingsForData(options: Pick<TrainOptions, 'augment' | 'batchSize'>, trainSamples: readonly Sample[], labels: readonly string[]): DataSettings {
  const counts = labels.map((_, c) => trainSamples.reduce((n, s) => n + (s.label === c ? 1 : 0), 0));
  const smallest = Math.min(...counts);
  const augment = options.augment === 'auto' ? (smallest < SMALL_DATA_PHOTOS ? SMALL_DATA_VIEWS : 1) : options.augment;
  const rows = trainSamples.length * augment;
  const batchSize = options.batchSize === 'auto' ? Math.max(MIN_BATCH, Math.min(MAX_AUTO_BATCH, Math.floor(rows / MIN_STEPS_PER_EPOCH))) : options.batchSize;
  const chosen = [
    options.augment === 'auto' && augment > 1 && `${augment} views of each photo (the smallest class has ${smallest} training photos, under ${SMALL_DATA_PHOTOS})`,
    options.batchSize === 'auto' && batchSize < MAX_AUTO_BATCH && `batch ${batchSize} (${rows} training rows; at least ${MIN_STEPS_PER_EPOCH} steps an epoch)`,
  ].filter(Boolean);
  return { augment, batchSize, note: chosen.length > 0 ? `small dataset: ${chosen.join(', ')}; --augment N and --batch-size N override` : undefined };
}
