import type { AddressInfo } from 'node:net';
import { readModelSpec } from '../node/index.ts';
import { Admission, ServiceTime } from './admission.ts';
import { buildApp } from './app.ts';
import { Batcher, type BatchRunner } from './batcher.ts';
import { ServeContext, modelName } from './context.ts';
import { shuttingDown } from './http-error.ts';
import { createMetrics } from './metrics.ts';
import { resolveOptions, type ServeOptions } from './options.ts';
import { Pipeline } from './pipeline.ts';
import { RemoteWatch } from './remote-watch.ts';
import { WorkerPool, workerUrl } from '../node/index.ts';
import type { BatchDone, BatchJob, ModelInfo, WorkerInit } from './worker-protocol.ts';

const WORKER_URL = workerUrl('worker', import.meta.url);

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  url: string;
  /**
   * Graceful shutdown: new requests get 503 (or find the port closed), requests already
   * accepted are answered, then the workers stop. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

function urlOf(address: AddressInfo | string | null): string {
  if (!address || typeof address === 'string') throw new Error(`unexpected listening address ${String(address)}`);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Starts the inference server. It listens first, so /healthz answers and /readyz says 503 while
 * the workers load the model; the promise resolves once they are warm and /readyz says 200, and
 * rejects (with the server closed again) when the model cannot be loaded.
 */
export async function startServer(serveOptions: ServeOptions): Promise<RunningServer> {
  const options = resolveOptions(serveOptions);
  // Reading the model's spec takes milliseconds; loading it in the workers takes seconds and
  // happens after listening. A missing or foreign file must fail before the server says it listens.
  await readModelSpec(options.model);
  // Metrics exist before the workers do (they are scraped while the model loads).
  const parts: { pool?: WorkerPool<BatchJob, BatchDone, ModelInfo>; batcher?: Batcher } = {};
  const serviceTime = new ServiceTime();
  const admission = new Admission(options.maxQueue, options.maxWaitMs, {
    inFlight: () => parts.batcher?.inFlight ?? 0,
    msPerImage: () => serviceTime.msPerImage,
    workers: () => parts.pool?.live ?? 1,
  });
  const metrics = createMetrics(
    {
      queueDepth: () => admission.depth,
      batchesWaiting: () => parts.batcher?.waiting ?? 0,
      busyWorkers: () => (parts.pool ? parts.pool.live - parts.pool.idle : 0),
      batchBufferBytes: () => parts.batcher?.bufferBytes ?? 0,
    },
    options.maxBatch,
  );
  const context = new ServeContext(options, metrics);
  const app = await buildApp(context);
  await app.listen({ host: options.host, port: options.port });
  const url = urlOf(app.server.address());
  options.onListening?.(url);

  let workers: WorkerPool<BatchJob, BatchDone, ModelInfo>;
  try {
    // Batches arrive with gaps between them and the server thread needs the cores in those gaps,
    // so ONNX Runtime's threads sleep instead of spinning when a batch is done. A worker that dies
    // fails only its own batch and is replaced, however often: the server must outlive it.
    workers = await WorkerPool.start<BatchJob, BatchDone, ModelInfo, WorkerInit>({
      url: WORKER_URL,
      size: options.workers,
      init: { model: options.model, ep: options.ep, threads: options.threads, spinWait: false, warmupBatch: options.maxBatch, runtime: options.runtime, tta: options.tta },
      jobsPerWorker: 1,
      maxRestarts: Infinity,
      log: options.log,
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  parts.pool = workers;
  const remote = RemoteWatch.start(options.runtime, options.log);
  const { spec, executionProvider, modelPath } = workers.info;
  const runner: BatchRunner = {
    get idle() {
      return workers.idle;
    },
    async run(inputs, count) {
      const done = metrics.inference.startTimer();
      const start = performance.now();
      try {
        const result = await workers.run({ inputs, count }, [inputs.buffer as ArrayBuffer]);
        serviceTime.observe(performance.now() - start, count);
        return result;
      } catch (error) {
        throw remote?.batchFailed(error as Error) ?? error;
      } finally {
        done();
      }
    },
  };
  const { height, width } = spec.preprocess;
  const images = new Batcher(runner, {
    maxBatch: options.maxBatch,
    maxDelayMs: options.maxDelayMs,
    inputSize: height * width * 3,
    classes: spec.labels.length,
    onBatch: (size) => metrics.batchSize.observe(size),
    onWait: (ms) => metrics.queueWait.observe(ms / 1000),
  });
  parts.batcher = images;
  workers.onIdle = () => images.pump();
  context.model = {
    name: modelName(modelPath),
    spec,
    executionProvider,
    pipeline: new Pipeline({ admission, batcher: images, spec, maxPixels: options.maxPixels }),
    liveWorkers: () => workers.live,
    ...(remote && { unavailable: () => remote.unavailable() }),
  };

  const shutdown = async () => {
    context.draining = true;
    // A client that holds a request open forever must not hold the process with it.
    const deadline = setTimeout(() => app.server.closeAllConnections(), options.drainTimeoutMs);
    try {
      await app.close();
    } finally {
      clearTimeout(deadline);
      images.close(shuttingDown());
      await workers.close();
      remote?.close();
    }
  };
  let closing: Promise<void> | undefined;
  return { url, close: () => (closing ??= shutdown()) };
}
