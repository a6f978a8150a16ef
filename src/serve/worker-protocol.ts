import type { EpChoice, ModelSpec } from '../core/index.ts';

// What the server thread and its inference workers (src/node WorkerPool) exchange. Batches travel
// as one Float32Array whose buffer is transferred, not copied, in each direction.

export interface WorkerInit {
  model: string;
  ep: EpChoice;
  threads?: number;
  /** ONNX Runtime's spin-waiting between runs (see RuntimeSessionOptions.spinWait). */
  spinWait: boolean;
  /** Blank images run once after loading, so the first real full batch pays no allocation. */
  warmupBatch: number;
  /** 'local', or the v2:// server the model runs on (see ServeOptions.runtime). */
  runtime: string;
  /** Test-time augmentation for every batch: 'off', 'mirror', '3' or '4'. */
  tta: string;
}

export interface ModelInfo {
  spec: ModelSpec;
  executionProvider: string;
  modelPath: string;
}

/** `count` images laid end to end at the start of `inputs`. */
export interface BatchJob {
  inputs: Float32Array;
  count: number;
}

/** `count` x classes probabilities; `inputs` is the batch's buffer coming back, to be filled again. */
export interface BatchDone {
  probs: Float32Array;
  inputs: Float32Array;
}
