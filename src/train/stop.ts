import type { TrainOptions } from './options.ts';

/** Why the head stopped: early stopping before `epochs`, or all of them run. */
export interface StopReason {
  reason: 'patience' | 'epochs';
  /** The last epoch trained. */
  lastEpoch: number;
  /** The epoch whose weights were kept. */
  bestEpoch: number;
  /** What early stopping watched: validation loss, or training loss when there is no validation set. */
  monitored: 'validation loss' | 'training loss';
}

/** The flags that set the epochs and patience of the phase described (the head's, or fine-tuning's). */
export interface StopFlags {
  epochs: string;
  patience: string;
}

/**
 * One line saying why training ended where it did, and what to change when it matters: early
 * stopping and a best epoch that is the last one allowed both deserve a word, as neither is
 * visible from the epoch lines alone.
 */
export function describeStop(stop: StopReason, options: Pick<TrainOptions, 'epochs' | 'patience'>, flags: StopFlags = { epochs: '--epochs', patience: '--patience' }): string {
  const { lastEpoch, bestEpoch, monitored } = stop;
  if (stop.reason === 'patience') {
    return `early stopping after epoch ${lastEpoch} of ${options.epochs}: no better ${monitored} than epoch ${bestEpoch}'s for ${options.patience} epochs (${flags.patience} ${options.patience}); kept epoch ${bestEpoch}`;
  }
  if (bestEpoch === lastEpoch) {
    return `note: the best epoch was the last one allowed (${flags.epochs} ${options.epochs}) and the ${monitored} was still falling; a higher ${flags.epochs} may give a better model`;
  }
  return `ran all ${options.epochs} epochs; kept epoch ${bestEpoch}, the lowest ${monitored}`;
}
