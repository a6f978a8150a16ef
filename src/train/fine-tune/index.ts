// Fine-tuning the backbone (footwear train --fine-tune [BLOCK]): the trainer in run.ts, one
// concern per file beside it: split.ts (where the graph is cut, frozen and trainable parts),
// activations.ts and fp16.ts (the on-disk activation cache), network.ts (the trained network,
// batch normalisation in inference mode), adam.ts (learning rates per parameter group),
// schedule.ts (epochs, early stopping), checkpoint.ts (resume), settings.ts (defaults),
// backbone.ts (--input-size).
export { fineTuneRequested, trainFineTuned, ACTIVATION_CACHE_DIR, type FineTuneResult, type FineTuneSummary } from './run.ts';
export { loadBackbone } from './backbone.ts';
export { FINE_TUNE_DEFAULTS, type FineTuneOptions, type FineTuneSettings } from './settings.ts';
export { CHECKPOINT_DIR as FINE_TUNE_CHECKPOINT_DIR } from './checkpoint.ts';
