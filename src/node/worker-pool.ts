import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { UserError, type Log } from '../core/index.ts';
import { startWorker } from './start-worker.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

// Worker threads for the work that must not block the thread it is asked from: predict's
// decoding and resizing, and the server's inference batches. One pool serves both: it starts the
// workers, hands each job to the least busy one, fails only the jobs of a worker that dies and
// replaces it, and stops the workers only once the jobs in their hands are done.

/** Longest wait for a worker to finish its jobs and leave before it is terminated. */
const CLOSE_TIMEOUT_MS = 30_000;

/** A job whose worker stopped before answering; the pool goes on with a replacement. */
export class WorkerStoppedError extends Error {
  override name = 'WorkerStoppedError';
}

export interface WorkerPoolOptions<Init> {
  /** The worker module (see workerUrl); it calls hostWorker(). */
  url: URL;
  size: number;
  /** Handed to the worker's start(). */
  init?: Init;
  /** Jobs one worker holds at once (1 for a model session that runs one batch at a time). */
  jobsPerWorker?: number;
  /** Workers dying this many times in a row without finishing a job make the pool fail its jobs. */
  maxRestarts?: number;
  /** Receives the workers' log lines and the pool's own (a worker replaced). */
  log?: Log;
}

interface Pending<Result> {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

interface Thread<Result> {
  worker: Worker;
  ready: boolean;
  jobs: Map<number, Pending<Result>>;
}

export class WorkerPool<Job, Result, Info = void> {
  private readonly threads = new Set<Thread<Result>>();
  private nextId = 1;
  private closing = false;
  private restarts = 0;
  private broken?: Error;
  private firstInfo?: Info;
  /** Called whenever a worker becomes free (or ready), so a scheduler can hand it the next job. */
  onIdle: () => void = () => {};

  private constructor(private readonly options: WorkerPoolOptions<unknown>) {}

  /** Starts the workers and resolves once each has started (a model loaded, say); the first failure rejects. */
  static async start<Job, Result, Info = void, Init = undefined>(options: WorkerPoolOptions<Init>): Promise<WorkerPool<Job, Result, Info>> {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`workers should be a positive integer, got ${options.size}`);
    const pool = new WorkerPool<Job, Result, Info>(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.options.size;
  }

  /** What the first worker's start() returned. */
  get info(): Info {
    if (!this.firstInfo) throw new Error('no worker has started yet');
    return this.firstInfo;
  }

  /** Started workers able to take a job now. */
  get idle(): number {
    let n = 0;
    for (const thread of this.threads) if (thread.ready && thread.jobs.size < this.capacity) n++;
    return n;
  }

  /** Started workers, busy or not. */
  get live(): number {
    let n = 0;
    for (const thread of this.threads) if (thread.ready) n++;
    return n;
  }

  /** Jobs handed to workers and not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const thread of this.threads) n += thread.jobs.size;
    return n;
  }

  /**
   * Runs `job` on the least busy started worker with room; `transfer` moves buffers to it. Rejects
   * with WorkerStoppedError when that worker dies first, and at once when no worker has room.
   */
  run(job: Job, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (this.closing) return Promise.reject(new Error('the worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    const thread = this.leastBusy();
    if (!thread) return Promise.reject(new Error('no worker is free'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // An idle worker is unreferenced so a forgotten pool never keeps the process alive; one with
      // work must stay referenced or the process could exit while waiting for its answer.
      if (thread.jobs.size === 0) thread.worker.ref();
      thread.jobs.set(id, { resolve, reject });
      const message: ToWorker<Job> = { type: 'job', id, job };
      thread.worker.postMessage(message, transfer);
    });
  }

  /** Lets every job in hand finish, then ends the workers (terminating any that hang). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.threads].map(async ({ worker }) => {
        const exited = once(worker, 'exit');
        worker.ref();
        const message: ToWorker<Job> = { type: 'close' };
        worker.postMessage(message);
        const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.threads.clear();
  }

  private get capacity(): number {
    return this.options.jobsPerWorker ?? Infinity;
  }

  /**
   * A started worker first; else one still starting (a replacement for one that died), whose
   * messages wait in its port until it has started.
   */
  private leastBusy(): Thread<Result> | undefined {
    let best: Thread<Result> | undefined;
    for (const thread of this.threads) {
      if (thread.jobs.size >= this.capacity) continue;
      const better = !best || (thread.ready && !best.ready) || (thread.ready === best.ready && thread.jobs.size < best.jobs.size);
      if (better) best = thread;
    }
    return best;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = startWorker(this.options.url, { workerData: this.options.init });
      const thread: Thread<Result> = { worker, ready: false, jobs: new Map() };
      this.threads.add(thread);
      let failure: Error | undefined;
      const log = this.options.log ?? (() => {});

      worker.on('message', (message: FromWorker<Result, Info>) => {
        switch (message.type) {
          case 'ready':
            this.firstInfo ??= message.info;
            thread.ready = true;
            worker.unref();
            resolve();
            this.onIdle();
            break;
          case 'failed':
            // Rebuilt on this side of the thread: a UserError stays one (so front ends print it as
            // a user's mistake), under the name of the class the worker threw.
            failure = message.user ? new UserError(message.message) : new Error(message.message);
            failure.name = message.name;
            break;
          case 'log':
            log(message.line);
            break;
          case 'done':
          case 'error': {
            const job = thread.jobs.get(message.id);
            if (!job) break;
            thread.jobs.delete(message.id);
            if (thread.jobs.size === 0) worker.unref();
            this.restarts = 0;
            if (message.type === 'done') job.resolve(message.result);
            else job.reject(Object.assign(new Error(message.message), message.name && { name: message.name }));
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
        this.threads.delete(thread);
        const why = failure?.message.split('\n')[0] ?? `exit code ${code}`;
        // The jobs in its hands fail (one of them may be why it died); the others go on.
        for (const job of thread.jobs.values()) job.reject(new WorkerStoppedError(`worker stopped (${why})`));
        thread.jobs.clear();
        if (!thread.ready) {
          reject(failure ?? new Error(`worker stopped while starting (${why})`));
          return;
        }
        if (this.closing) return;
        if (++this.restarts > (this.options.maxRestarts ?? 3)) {
          this.broken ??= new Error(`workers keep stopping: ${why}`);
          return;
        }
        log(`worker stopped (${why}); starting a new one`);
        this.spawn().catch((error: Error) => log(`could not restart a worker: ${error.message}`));
      });
    });
  }
}
