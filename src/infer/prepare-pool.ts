import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { PreprocessSpec } from '../spec/index.ts';
import { startTsWorker } from '../util/ts-worker.ts';
import type { InputSlot, Prepared } from './prepare.ts';
import type { PrepareJob, PrepareReply } from './prepare-protocol.ts';

// Worker threads that turn files into model inputs. onnxruntime-node runs a session synchronously
// on the calling thread, so preprocessing on that thread stalls for every batch: measured here,
// predict ran at 0.63x the model's own rate that way (BENCHMARKS.md, "Inference").

const WORKER_URL = new URL('./prepare-worker.ts', import.meta.url);

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

interface Pending {
  file: string;
  slot: InputSlot;
  size: number;
  resolve: (prepared: Prepared) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Workers that die this many times in a row without finishing a photo are broken, not unlucky. */
const MAX_RESTARTS = 3;

export class PreparePool {
  private readonly threads = new Set<Thread>();
  private nextId = 1;
  private closed = false;
  private restarts = 0;
  private broken?: Error;
  private drained?: () => void;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`prepare workers should be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) this.spawn();
  }

  /**
   * Prepares one file into `slot`, whose array must live on a SharedArrayBuffer (sharedFloat32).
   * Never rejects: like prepareFile, a bad file (or a worker that died on it) becomes a failure.
   */
  prepare(file: string, spec: PreprocessSpec, maxPixels: number | undefined, slot: InputSlot): Promise<Prepared> {
    if (this.closed) throw new Error('the preprocessing pool is closed');
    if (this.broken) return Promise.reject(this.broken);
    if (!(slot.out.buffer instanceof SharedArrayBuffer)) throw new TypeError('prepare slots must live on a SharedArrayBuffer (see sharedFloat32)');
    const thread = this.leastBusy();
    const id = this.nextId++;
    const size = spec.width * spec.height * 3;
    return new Promise((resolve) => {
      // An idle worker is unreferenced so a forgotten pool never keeps the process alive; one with
      // work must stay referenced or the process could exit while waiting for its answer.
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { file, slot, size, resolve });
      const job: PrepareJob = { id, file, spec, out: slot.out, offset: slot.offset, ...(maxPixels === undefined ? {} : { maxPixels }) };
      thread.worker.postMessage(job);
    });
  }

  /** Lets photos in progress finish (stopping a thread inside a decode is not safe), then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight() > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await Promise.all([...this.threads].map(({ worker }) => worker.terminate()));
    this.threads.clear();
  }

  /** Wakes close() once the last photo in progress is done. */
  private noteDone(): void {
    if (this.closed && this.inFlight() === 0) this.drained?.();
  }

  private inFlight(): number {
    let n = 0;
    for (const thread of this.threads) n += thread.pending.size;
    return n;
  }

  private leastBusy(): Thread {
    let best: Thread | undefined;
    for (const thread of this.threads) if (!best || thread.pending.size < best.pending.size) best = thread;
    // spawn() replaces a dead worker before its exit handler returns, so there is always one.
    if (!best) throw new Error('internal: the preprocessing pool has no workers');
    return best;
  }

  private spawn(): void {
    const worker = startTsWorker(WORKER_URL);
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    this.threads.add(thread);
    let crash: Error | undefined;
    worker.on('message', (reply: PrepareReply) => {
      const job = thread.pending.get(reply.id);
      if (!job) return;
      thread.pending.delete(reply.id);
      if (thread.pending.size === 0) worker.unref();
      this.restarts = 0;
      const { slot, size, file } = job;
      job.resolve(reply.ok ? { file, input: slot.out.subarray(slot.offset, slot.offset + size) } : reply.failure);
      this.noteDone();
    });
    worker.on('error', (error) => {
      crash = error;
    });
    worker.on('exit', (code) => {
      this.threads.delete(thread);
      // The photos in its hands fail (one of them may be why it died); the batch goes on.
      const why = crash?.message.split('\n')[0] ?? `exit code ${code}`;
      for (const job of thread.pending.values()) job.resolve({ file: job.file, error: { code: 'undecodable', message: `preprocessing worker stopped (${why})` } });
      thread.pending.clear();
      if (this.closed) return this.noteDone();
      if (++this.restarts > MAX_RESTARTS) {
        this.broken ??= new Error(`preprocessing workers keep stopping: ${why}`);
        return;
      }
      this.spawn();
    });
  }
}
