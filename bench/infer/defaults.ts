// Defaults shared by the command (which must load fast: the CLI imports it for every command)
// and the bench itself.
export const DEFAULT_IMAGES = 300;
export const DEFAULT_BATCH_SIZES = [1, 8, 16, 32] as const;
/** TF.js and onnxruntime-web are 5-10x slower; this many images keeps their rows near a minute. */
export const DEFAULT_BASELINE_IMAGES = 100;
/** What issue 4 asks of predict: 0.8x the model alone, 10x TF.js. */
export const GOALS = { predictOverRawOrt: 0.8, predictOverTfjs: 10 } as const;
/** Alternating predict / raw rounds behind the goal ratio (see paired.ts). */
export const DEFAULT_ROUNDS = 3;
