import { decodeInput, writeInput } from '../node/index.ts';
import { toPrediction, type Prediction, type PredictionFailure } from '../core/index.ts';
import type { ModelSpec } from '../core/index.ts';
import { refused, type Admission } from './admission.ts';
import type { Batcher } from './batcher.ts';
import { HttpError, queueFull } from './http-error.ts';
import { currentTrace } from './trace.ts';

// One upload's way through the server: a place in the queue, decoding on libuv's thread pool
// (sharp), then a seat in the next batch. Shared by the single and the batch endpoints.

export interface PipelineParts {
  admission: Admission;
  batcher: Batcher;
  spec: ModelSpec;
  maxPixels: number;
}

export class Pipeline {
  constructor(private readonly parts: PipelineParts) {}

  get labels(): readonly string[] {
    return this.parts.spec.labels;
  }

  /** `requested` clamped to the label count; 400 for anything but a positive integer. */
  topK(requested: unknown, fallback: number): number {
    if (requested === undefined || requested === '') return Math.min(fallback, this.labels.length);
    const k = Number(requested);
    if (!Number.isInteger(k) || k < 1) throw new HttpError(400, 'bad-request', `top_k should be a positive integer, got ${JSON.stringify(requested)}`);
    return Math.min(k, this.labels.length);
  }

  /**
   * Classifies one encoded image. A bad image resolves to a failure naming why; a full queue, or
   * one too slow to wait in, throws 429 before any decoding is spent on it; a failed inference rejects.
   */
  async classify(image: Buffer, name: string, k: number): Promise<Prediction | PredictionFailure> {
    const ticket = this.parts.admission.tryEnter();
    if (refused(ticket)) throw queueFull(ticket.expectedWaitMs);
    const trace = currentTrace();
    trace?.admitted();
    try {
      const { preprocess } = this.parts.spec;
      const decoded = await decodeInput(image, name, preprocess, this.parts.maxPixels);
      if ('error' in decoded) return decoded;
      const write = (out: Float32Array, offset: number) => void writeInput(decoded, preprocess, { out, offset });
      const submitted = performance.now();
      let dispatched = submitted;
      const onDispatch = () => {
        ticket.release();
        dispatched = performance.now();
      };
      const probs = await this.parts.batcher.submit(write, onDispatch).catch((error: Error) => {
        throw error instanceof HttpError ? error : new HttpError(500, 'inference-failed', error.message);
      });
      trace?.ran(dispatched - submitted, performance.now() - dispatched);
      return toPrediction(name, probs, this.labels, k);
    } finally {
      ticket.release();
    }
  }
}
