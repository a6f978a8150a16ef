import type { Options } from 'yargs';
import { FINE_TUNE_DEFAULTS, type TrainOptions } from '../../train/index.ts';

// The flags of `footwear train` that belong to fine-tuning (src/train/fine-tune/), kept apart
// from train.ts so that file carries only the hook.

export interface FineTuneArgs {
  'fine-tune'?: string;
  'fine-tune-epochs'?: number;
  'fine-tune-lr'?: number;
  'fine-tune-head-lr'?: number;
  'fine-tune-patience'?: number;
  'input-size'?: number;
}

const d = FINE_TUNE_DEFAULTS;

/** yargs option definitions, added to `footwear train` with .options(). */
export const FINE_TUNE_FLAGS = {
  'fine-tune': {
    type: 'string',
    describe: `also train the backbone from BLOCK up (e.g. block_11 .. block_14 of mobilenet), after warming the head up on frozen features; the bare flag starts at ${d.from}`,
    defaultDescription: 'off (frozen backbone)',
  },
  'fine-tune-epochs': { type: 'number', default: d.epochs, describe: 'most fine-tuning epochs after the warm-up (early stopping may end sooner)' },
  'fine-tune-lr': { type: 'number', default: d.learningRate, describe: 'learning rate of the unfrozen backbone blocks (Adam)' },
  'fine-tune-head-lr': { type: 'number', default: d.headLearningRate, describe: 'learning rate of the head while the blocks fine-tune (the warm-up uses --learning-rate)' },
  'fine-tune-patience': { type: 'number', default: d.patience, describe: 'fine-tuning epochs without a better validation loss before stopping' },
  'input-size': {
    type: 'number',
    describe: 'rebuild the backbone for N x N inputs (a multiple of 32, e.g. 160); the model records it and inference follows',
    defaultDescription: "the backbone's own (224 for mobilenet)",
  },
} as const satisfies Record<string, Options>;

export function fineTuneOptions(args: FineTuneArgs): Pick<TrainOptions, 'fineTune' | 'inputSize'> {
  return {
    fineTune:
      args['fine-tune'] === undefined
        ? undefined
        : {
            from: args['fine-tune'] || FINE_TUNE_DEFAULTS.from,
            epochs: args['fine-tune-epochs'],
            learningRate: args['fine-tune-lr'],
            headLearningRate: args['fine-tune-head-lr'],
            patience: args['fine-tune-patience'],
          },
    inputSize: args['input-size'],
  };
}
