import { MOBILENET_FEATURES } from '../backbone/index.ts';
import type { EpChoice } from '../core/index.ts';
import { UserError } from '../core/index.ts';
import type { FineTuneOptions } from './fine-tune/settings.ts';

export interface TrainOptions {
  /** Folder-per-class dataset. */
  data: string;
  /** Output model directory. */
  out: string;
  /** 'mobilenet' (bundled) or a path to a TF.js LayersModel. */
  backbone: string;
  /**
   * Backbone layers whose pooled activations feed the head; unset: the measured default for the
   * bundled MobileNetV2, or the last feature map of another backbone.
   */
  featureLayers?: string[];
  /** Input scaling [min, max] for pixels 0..255. */
  range: [number, number];
  epochs: number;
  /** Feature vectors per step of the head; 'auto': 64, smaller for small datasets (small-data.ts). */
  batchSize: number | 'auto';
  learningRate: number;
  valSplit: number;
  seed: number;
  /** Epochs without a better validation loss before stopping (best weights are restored). */
  patience: number;
  /**
   * Views extracted per training photo (see augment/views.ts): 1 the photo alone, 2 with its
   * mirror, more adds random crops, rotations, colours and backgrounds. Each view costs one more
   * backbone pass per photo at extraction; the head then trains on all of them. 'auto': 1, or
   * more for small datasets (small-data.ts).
   */
  augment: number | 'auto';
  dropout: number;
  /** Fraction of unreadable training images tolerated (skipped with a count) before failing. */
  maxBadFraction: number;
  export: boolean;
  ep: EpChoice;
  resume: boolean;
  /** Fine-tune hook: unfreeze the backbone from a block (see src/train/fine-tune/); unset: frozen backbone, head only. */
  fineTune?: FineTuneOptions;
  /** Fine-tune hook: rebuild the backbone for N x N inputs (a multiple of 32); unset: the backbone's own (224). */
  inputSize?: number;
}

export function defaultTrainOptions(data: string, out: string): TrainOptions {
  return {
    data,
    out,
    backbone: 'mobilenet',
    range: MOBILENET_FEATURES.range,
    epochs: 40,
    batchSize: 'auto',
    learningRate: 1e-3,
    valSplit: 0.1,
    seed: 42,
    patience: 6,
    augment: 'auto',
    dropout: 0.2,
    maxBadFraction: 0.05,
    export: true,
    ep: 'auto',
    resume: false,
  };
}

/** More views than this cost extraction time without a measured gain (see BENCHMARKS.md). */
export const MAX_VIEWS = 16;

export class TrainError extends UserError {
  override name = 'TrainError';
}

export function checkTrainOptions(o: TrainOptions): void {
  const positiveInt = (key: 'epochs' | 'batchSize' | 'patience') => {
    const value = o[key];
    if (key === 'batchSize' && value === 'auto') return;
    if (!Number.isInteger(value) || (value as number) < 1) throw new TrainError(`--${key === 'batchSize' ? 'batch-size' : key} should be a positive integer${key === 'batchSize' ? " or 'auto'" : ''}, got ${value}`);
  };
  positiveInt('epochs');
  positiveInt('batchSize');
  // 0 would stop after the first epoch whatever it scored; "no early stopping" is --patience >= --epochs.
  positiveInt('patience');
  if (o.augment !== 'auto' && (!Number.isInteger(o.augment) || o.augment < 1 || o.augment > MAX_VIEWS)) {
    throw new TrainError(`--augment should be 'auto' or an integer from 1 to ${MAX_VIEWS} (views per training photo), got ${o.augment}`);
  }
  if (!(o.valSplit >= 0 && o.valSplit < 1)) throw new TrainError(`--val-split should be in [0, 1), got ${o.valSplit}`);
  if (!(o.learningRate > 0)) throw new TrainError(`--learning-rate should be > 0, got ${o.learningRate}`);
  if (!Number.isInteger(o.seed)) throw new TrainError(`--seed should be an integer, got ${o.seed}`);
}
