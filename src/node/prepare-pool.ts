import { availableParallelism } from 'node:os';
import type { PreprocessSpec } from '../core/index.ts';
import type { InputSlot, Prepared } from './prepare.ts';
import type { PrepareJob, PrepareReply } from './prepare-protocol.ts';
import { workerUrl } from './start-worker.ts';
import { WorkerPool, WorkerStoppedError } from './worker-pool.ts';

// Worker threads that turn files into model inputs. onnxruntime-node runs a session synchronously
// on the calling thread, so preprocessing on that thread stalls for every batch: measured here,
// predict ran at 0.63x the model's own rate that way (BENCHMARKS.md, "Inference").

const WORKER_URL = workerUrl('prepare-worker', import.meta.url);

/**
 * One worker per core beyond the one running the model, at most 4: decoding a catalogue photo
 * costs far less than running it, so a few workers keep up with ONNX Runtime on any CPU.
 */
export function defaultPrepareWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** A buffer the pool's workers can write into; ONNX Runtime cannot read such memory itself. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

export class PreparePool {
  private constructor(private readonly pool: WorkerPool<PrepareJob, PrepareReply>) {}

  static async start(size: number): Promise<PreparePool> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`prepare workers should be a positive integer, got ${size}`);
    return new PreparePool(await WorkerPool.start<PrepareJob, PrepareReply>({ url: WORKER_URL, size }));
  }

  get size(): number {
    return this.pool.size;
  }

  /**
   * Prepares one file into `slot`, whose array must live on a SharedArrayBuffer (sharedFloat32).
   * Like prepareFile, a bad file (or a worker that died on it) becomes a failure; only a pool whose
   * workers keep dying rejects.
   */
  async prepare(file: string, spec: PreprocessSpec, maxPixels: number | undefined, slot: InputSlot): Promise<Prepared> {
    if (!(slot.out.buffer instanceof SharedArrayBuffer)) throw new TypeError('prepare slots must live on a SharedArrayBuffer (see sharedFloat32)');
    const job: PrepareJob = { file, spec, out: slot.out, offset: slot.offset, ...(maxPixels === undefined ? {} : { maxPixels }) };
    let reply: PrepareReply;
    try {
      reply = await this.pool.run(job);
    } catch (error) {
      if (!(error instanceof WorkerStoppedError)) throw error;
      return { file, error: { code: 'undecodable', message: `preprocessing ${error.message}` } };
    }
    if (!reply.ok) return reply.failure;
    return { file, input: slot.out.subarray(slot.offset, slot.offset + spec.width * spec.height * 3) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
