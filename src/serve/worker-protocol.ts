import type { EpChoice } from '../infer/index.ts';
import type { ModelSpec } from '../spec/index.ts';

// Messages between the server thread and its inference workers. Batches travel as one
// Float32Array whose buffer is transferred, not copied, in each direction.

export interface WorkerInit {
  model: string;
  ep: EpChoice;
  threads?: number;
  /** ONNX Runtime's spin-waiting between runs (see RuntimeSessionOptions.spinWait). */
  spinWait: boolean;
  /** Blank images run once after loading, so the first real full batch pays no allocation. */
  warmupBatch: number;
}

export interface ModelInfo {
  spec: ModelSpec;
  executionProvider: string;
  modelPath: string;
}

/** Server -> worker: `count` images laid end to end at the start of `inputs`. */
export interface BatchRequest {
  type: 'batch';
  id: number;
  inputs: Float32Array;
  count: number;
}

/** Server -> worker: finish the batch in hand, release the session, and exit. */
export type ServerMessage = BatchRequest | { type: 'close' };

/** Worker -> server. */
export type WorkerMessage =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'failed'; name: string; message: string }
  | { type: 'log'; line: string }
  /** `inputs` is the batch's buffer coming back, to be filled again. */
  | { type: 'result'; id: number; probs: Float32Array; inputs: Float32Array }
  | { type: 'error'; id: number; message: string };
