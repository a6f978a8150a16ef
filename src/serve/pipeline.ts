import { decodeInput, writeInput } from '../node/index.ts';
import { toPrediction, type Prediction, type PredictionFailure } from '../core/index.ts';
import type { ModelSpec } from '../core/index.ts';
import { refused, type Admission, type Ticket } from './admission.ts';
import type { Batcher, InputWriter } from './batcher.ts';
import { HttpError, queueFull } from './http-error.ts';
import { currentTrace } from './trace.ts';

// One upload's way through the server: a place in the queue, decoding on libuv's thread pool
// (sharp), then a seat in the next batch. Shared by the single and the batch endpoints and by
// KServe v2 inference, whose tensors take seats in the same batches image by image.

/** Images of one v2 request decoded at once (as for a batch upload's files). */
const DECODES_PER_REQUEST = 4;

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
      const scores = await this.score(image, name, ticket);
      return 'error' in scores ? scores : toPrediction(name, scores, this.labels, k);
    } finally {
      ticket.release();
    }
  }

  /**
   * Class probabilities for `count` preprocessed images laid end to end in `inputs` (a v2 tensor).
   * Each image takes its own seat in the shared batches, as an upload would; all are admitted or
   * none (429), since the protocol answers a tensor whole.
   */
  async scoreTensor(inputs: Float32Array, count: number): Promise<Float32Array[]> {
    const tickets = this.enterAll(count);
    const size = inputs.length / count;
    const seats = tickets.map((ticket, i) => this.submit((out, offset) => out.set(inputs.subarray(i * size, (i + 1) * size), offset), ticket));
    try {
      return await settleAll(seats);
    } finally {
      for (const ticket of tickets) ticket.release();
    }
  }

  /**
   * Class probabilities for encoded images (a v2 BYTES input), decoded a few at a time, each taking
   * its seat as soon as it is decoded. The first bad image fails the whole request, as the protocol
   * has no per-element errors; the images already seated finish first, so their places are given back.
   */
  async scoreImages(images: readonly Uint8Array[]): Promise<Float32Array[] | PredictionFailure> {
    const tickets = this.enterAll(images.length);
    const scores: Float32Array[] = [];
    let failure: PredictionFailure | undefined;
    let stopped = false;
    let next = 0;
    const decodeNext = async (): Promise<void> => {
      while (next < images.length && !stopped) {
        const i = next++;
        // A failed inference (rejection) stops the others too: the answer is already an error.
        const result = await this.score(images[i], `image ${i}`, tickets[i]).catch((error: unknown) => {
          stopped = true;
          throw error;
        });
        if ('error' in result) {
          failure ??= result;
          stopped = true;
        } else scores[i] = result;
      }
    };
    try {
      await settleAll(Array.from({ length: Math.min(DECODES_PER_REQUEST, images.length) }, decodeNext));
    } finally {
      for (const ticket of tickets) ticket.release();
    }
    return failure ?? scores;
  }

  /** Seats for `count` images at once, or none: 429 when the queue lacks room, 413 when it never could have it. */
  private enterAll(count: number): Ticket[] {
    const { admission } = this.parts;
    if (count > admission.capacity) {
      throw new HttpError(413, 'too-many-images', `a request may hold at most ${admission.capacity} images (the server's --max-queue), got ${count}`);
    }
    const tickets: Ticket[] = [];
    for (let i = 0; i < count; i++) {
      const ticket = admission.tryEnter();
      if (refused(ticket)) {
        for (const taken of tickets) taken.release();
        throw queueFull(ticket.expectedWaitMs);
      }
      tickets.push(ticket);
    }
    for (let i = 0; i < count; i++) currentTrace()?.admitted();
    return tickets;
  }

  /** Decodes one image into its seat in the next batch; a bad image becomes a failure naming why. */
  private async score(image: Uint8Array, name: string, ticket: Ticket): Promise<Float32Array | PredictionFailure> {
    const { preprocess } = this.parts.spec;
    const decoded = await decodeInput(image, name, preprocess, this.parts.maxPixels);
    if ('error' in decoded) return decoded;
    return this.submit((out, offset) => void writeInput(decoded, preprocess, { out, offset }), ticket);
  }

  private async submit(write: InputWriter, ticket: Ticket): Promise<Float32Array> {
    // Queue and inference times go to the access log's trace of the request, when it keeps one.
    const trace = currentTrace();
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
    return probs;
  }
}

/** Like Promise.all, but only once every promise has settled, so nothing is left running when it rejects. */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
