import type { PredictionFailure, PreprocessSpec } from '../core/index.ts';

// Jobs of the preprocessing workers (PreparePool).

export interface PrepareJob {
  file: string;
  spec: PreprocessSpec;
  maxPixels?: number;
  /** A view of a SharedArrayBuffer: the worker writes the input here, so nothing is copied back. */
  out: Float32Array;
  offset: number;
}

export type PrepareReply = { ok: true } | { ok: false; failure: PredictionFailure };
