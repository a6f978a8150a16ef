import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../core/index.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

// The worker side of WorkerPool: starts (e.g. loads a model), announces itself ready, runs jobs,
// and on 'close' lets the jobs in hand finish before it cleans up and leaves. Ending a thread
// inside ONNX Runtime's `run` or a libvips decode aborts the whole process, so leaving is always
// the worker's own decision.

export interface WorkerHandlers<Init, Info, Job, Result> {
  /** Runs once before any job; what it returns reaches the pool as `info`. */
  start?(init: Init, log: (line: string) => void): Promise<Info>;
  /** One job; `transfer` lists buffers to move (not copy) back with the result. */
  run(job: Job): Promise<{ result: Result; transfer?: ArrayBuffer[] }>;
  /** Releases what start() took, once the last job is done. */
  stop?(): Promise<void>;
}

export async function hostWorker<Init, Info, Job, Result>(handlers: WorkerHandlers<Init, Info, Job, Result>): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('this module runs only as a worker thread');
  const post = (message: FromWorker<Result, Info>, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let info: Info;
  try {
    info = (await handlers.start?.(workerData as Init, (line) => post({ type: 'log', line }))) as Info;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', message: e.message, name: e.name, user: isUserError(e) });
    port.close();
    return;
  }
  const running = new Set<Promise<void>>();
  port.on('message', (message: ToWorker<Job>) => {
    if (message.type === 'job') {
      const job = handlers
        .run(message.job)
        .then(
          ({ result, transfer }) => post({ type: 'done', id: message.id, result }, transfer),
          (error: unknown) =>
            post({ type: 'error', id: message.id, message: error instanceof Error ? error.message.split('\n')[0] : String(error), ...(error instanceof Error && { name: error.name }) }),
        )
        .finally(() => running.delete(job));
      running.add(job);
      return;
    }
    void Promise.all(running)
      .then(() => handlers.stop?.())
      .catch(() => {})
      .finally(() => port.close());
  });
  post({ type: 'ready', info });
}
