import { TrainError } from '../options.ts';

/** `footwear train --fine-tune [BLOCK]`: what to unfreeze and how the second phase trains. */
export interface FineTuneOptions {
  /** First trainable block, e.g. 'block_13': it and every block above it up to the feature layers train. */
  from: string;
  /** Most epochs of the fine-tuning phase (after the head's warm-up); early stopping may end sooner. */
  epochs?: number;
  /** Adam learning rate of the unfrozen blocks. */
  learningRate?: number;
  /** Adam learning rate of the head during fine-tuning (the warm-up uses TrainOptions.learningRate). */
  headLearningRate?: number;
  batchSize?: number;
  /** Fine-tuning epochs without a better validation loss before stopping (the best epoch is restored). */
  patience?: number;
}

/**
 * Defaults, measured on the catalogue photos' training folder with a 10% validation split
 * (9,823 train, 1,092 validation photos; one seed each, so differences under ~0.4 points, one
 * standard error at 98%, are noise):
 * - block_13: on validation it scored 98.44% at 224 (block_11: 98.17%; frozen head: 98.17%) and
 *   98.08% at 160 (block_11: 97.80%; frozen: 97.89%), at less than half block_11's time an epoch
 *   (224: 130 s vs 245 s; 160: 54 s vs 140 s); the PyTorch probe on these weights also found
 *   13-14 as good as 11-14 (98.31% vs 98.36% test, within its 0.5-point seed spread);
 * - backbone 1e-5, head 1e-4 (160, 6 epochs each): at 1e-5 the epochs scored 97.6-98.4% on
 *   validation (the warm-up head: 97.9%), the best by validation loss 98.2%; at 3e-5 the first
 *   epoch fell to 97.4% and the best by loss was 97.9%; the probe found 1e-4 unstable, and 1e-4 on
 *   small subsets doubled the validation loss in the first epoch. The head, warmed up at 1e-3,
 *   only has to follow the features as they move;
 * - batch 32: the size the step costs were measured at (blocks 13-14 on wasm: ~235 ms at 160,
 *   ~450 ms at 224); not tuned further;
 * - 6 epochs, patience 3: an epoch (with its validation) took 54 s at 160 and 100-130 s at 224
 *   on this shared 2-core machine, and the validation loss moves by +-0.007 from epoch to epoch,
 *   so a patience of 2 stopped runs on noise; the best epoch came at 1, 2, 4 and 4 in the four
 *   measured runs.
 */
export const FINE_TUNE_DEFAULTS: Required<Omit<FineTuneOptions, 'from'>> & { from: string } = {
  from: 'block_13',
  epochs: 6,
  learningRate: 1e-5,
  headLearningRate: 1e-4,
  batchSize: 32,
  patience: 3,
};

export type FineTuneSettings = Required<FineTuneOptions>;

export function resolveFineTune(options: FineTuneOptions): FineTuneSettings {
  const s: FineTuneSettings = {
    from: options.from || FINE_TUNE_DEFAULTS.from,
    epochs: options.epochs ?? FINE_TUNE_DEFAULTS.epochs,
    learningRate: options.learningRate ?? FINE_TUNE_DEFAULTS.learningRate,
    headLearningRate: options.headLearningRate ?? FINE_TUNE_DEFAULTS.headLearningRate,
    batchSize: options.batchSize ?? FINE_TUNE_DEFAULTS.batchSize,
    patience: options.patience ?? FINE_TUNE_DEFAULTS.patience,
  };
  for (const key of ['epochs', 'batchSize'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new TrainError(`fine-tune ${key} should be a positive integer, got ${s[key]}`);
  }
  if (!Number.isInteger(s.patience) || s.patience < 0) throw new TrainError(`fine-tune patience should be an integer >= 0, got ${s.patience}`);
  for (const key of ['learningRate', 'headLearningRate'] as const) {
    if (!(s[key] > 0)) throw new TrainError(`fine-tune ${key} should be > 0, got ${s[key]}`);
  }
  return s;
}
