import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The URL of the worker module `name` (without extension) beside `base` (the caller's
 * import.meta.url): `.ts` when footwear runs from its TypeScript source, `.js` once built.
 */
export function workerUrl(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/**
 * Starts a worker thread. Built JavaScript starts as it is. TypeScript source (tests, a checkout
 * run through tsx) needs tsx in the worker too, and worker threads do not inherit a loader
 * registered through tsx's API, so such a worker registers it itself before importing its module.
 */
export function startWorker(moduleUrl: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
