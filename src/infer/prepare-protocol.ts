import type { PreprocessSpec } from '../spec/index.ts';
import type { PredictionFailure } from './prediction.ts';

// Messages between PreparePool and its worker threads.

export interface PrepareJob {
  id: number;
  file: string;
  spec: PreprocessSpec;
  maxPixels?: number;
  /** A view of a SharedArrayBuffer: the worker writes the input here, so nothing is copied back. */
  out: Float32Array;
  offset: number;
}

export type PrepareReply = { id: number; ok: true } | { id: number; ok: false; failure: PredictionFailure };
