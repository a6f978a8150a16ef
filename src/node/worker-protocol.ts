// Messages between a WorkerPool (worker-pool.ts) and the worker threads it runs (worker-host.ts).
// Payloads are the pool user's own types; big ones travel as transferred or shared buffers.

/** Pool -> worker. */
export type ToWorker<Job> = { type: 'job'; id: number; job: Job } | { type: 'close' };

/** Worker -> pool. */
export type FromWorker<Result, Info> =
  | { type: 'ready'; info: Info }
  /** Starting failed; `user` says whether it is the user's to fix (a bad model file, say); `name` is the error's class. */
  | { type: 'failed'; message: string; name: string; user: boolean }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; result: Result }
  /** A job failed; `name` is the error's class, so the pool's caller can tell kinds apart (a remote that is down, say). */
  | { type: 'error'; id: number; message: string; name?: string };
