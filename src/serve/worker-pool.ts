import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { Log } from '../infer/index.ts';
import type { BatchResult } from './batcher.ts';
import { startTsWorker } from '../util/ts-worker.ts';
import type { BatchRequest, ModelInfo, ServerMessage, WorkerInit, WorkerMessage } from './worker-protocol.ts';

// Inference worker threads, each holding one model session and running one batch at a time. A
// worker that dies fails only its own batch and is replaced, so the server outlives it.

const WORKER_URL = new URL('./worker.ts', import.meta.url);

/** Longest wait for a worker to finish its batch and leave; a batch takes well under a second. */
const CLOSE_TIMEOUT_MS = 30_000;

interface Job {
  id: number;
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
}

/** The error a worker reported while loading, with its name kept so the CLI prints it as a user error. */
function loadError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closing = false;
  private modelInfo?: ModelInfo;
  /** Called whenever a worker becomes free, so the batcher can hand it the next batch. */
  onIdle: () => void = () => {};

  private constructor(
    private readonly init: WorkerInit,
    private readonly log: Log,
  ) {}

  /** Starts `count` workers and resolves once every one has loaded and warmed up the model. */
  static async start(init: WorkerInit, count: number, log: Log): Promise<WorkerPool> {
    const pool = new WorkerPool(init, log);
    try {
      await Promise.all(Array.from({ length: count }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get info(): ModelInfo {
    if (!this.modelInfo) throw new Error('no worker has loaded the model yet');
    return this.modelInfo;
  }

  /** Workers able to take a batch now. */
  get idle(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.ready && !slot.job) n++;
    return n;
  }

  /** Workers that have the model loaded, busy or not. */
  get live(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.ready) n++;
    return n;
  }

  /**
   * Runs the first `count` images laid end to end in `inputs` on an idle worker. The buffer is
   * transferred to it, and comes back with the result.
   */
  run(inputs: Float32Array, count: number): Promise<BatchResult> {
    const slot = [...this.slots].find((s) => s.ready && !s.job);
    if (!slot) return Promise.reject(new Error('no idle inference worker'));
    return new Promise((resolve, reject) => {
      slot.job = { id: this.nextId++, resolve, reject };
      const request: BatchRequest = { type: 'batch', id: slot.job.id, inputs, count };
      slot.worker.postMessage(request, [inputs.buffer as ArrayBuffer]);
    });
  }

  /**
   * Stops every worker once its batch in hand is done. terminate() is only the fallback for a
   * worker that does not leave in time: ending a thread inside ONNX Runtime's `run` aborts the
   * whole process.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.slots].map(async ({ worker }) => {
        const exited = once(worker, 'exit');
        const message: ServerMessage = { type: 'close' };
        worker.postMessage(message);
        const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.slots.clear();
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = startTsWorker(WORKER_URL, { workerData: this.init });
      const slot: Slot = { worker, ready: false };
      this.slots.add(slot);
      let failure: Error | undefined;

      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            this.modelInfo ??= message.info;
            slot.ready = true;
            resolve();
            this.onIdle();
            break;
          case 'failed':
            failure = loadError(message.name, message.message);
            break;
          case 'log':
            this.log(message.line);
            break;
          case 'result':
          case 'error': {
            const job = slot.job;
            if (!job || job.id !== message.id) break;
            slot.job = undefined;
            if (message.type === 'result') job.resolve({ probs: message.probs, inputs: message.inputs });
            else job.reject(new Error(`inference failed: ${message.message}`));
            this.onIdle();
            break;
          }
        }
      });
      // 'error' (an uncaught exception in the worker) is always followed by 'exit'.
      worker.on('error', (error) => {
        failure ??= error;
      });
      worker.on('exit', (code) => {
        this.slots.delete(slot);
        const why = failure?.message ?? `exit code ${code}`;
        slot.job?.reject(new Error(`inference worker stopped: ${why}`));
        if (!slot.ready) {
          reject(failure ?? new Error(`inference worker stopped while loading the model (${why})`));
          return;
        }
        if (this.closing) return;
        this.log(`inference worker stopped (${why}); starting a new one`);
        this.spawn().catch((error: Error) => this.log(`could not restart an inference worker: ${error.message}`));
      });
    });
  }
}
