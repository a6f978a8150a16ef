import type { ModelSpec } from '../spec/index.ts';
import { OrderedPool } from './ordered-pool.ts';
import { defaultPrepareWorkers, PreparePool, sharedFloat32 } from './prepare-pool.ts';
import { toPrediction, type PredictionResult } from './prediction.ts';
import { prepareFile, prepareImage, type InputSlot, type Prepared } from './prepare.ts';
import type { OnnxSession } from './runtime.ts';

// On CPU a batch of 8 ran fastest per image in every sweep here (BENCHMARKS.md "Inference":
// 1, 8, 16 and 32 measured); bigger batches only pay on a GPU, where --batch-size says so.
export const DEFAULT_BATCH_SIZE = 8;
export const DEFAULT_TOP_K = 3;
// sharp decodes on libuv's thread pool, which has UV_THREADPOOL_SIZE (default 4) threads; more
// decodes in flight would only queue there while holding their file bytes in memory.
const DEFAULT_DECODES_IN_FLIGHT = Math.max(2, Number(process.env.UV_THREADPOOL_SIZE) || 4);

export interface ClassifyFilesOptions {
  /** Images per ONNX Runtime run (default 8). */
  batchSize?: number;
  /** How many ranked labels each prediction carries (default 3, at most the label count). */
  topK?: number;
  /** Called for each result, in input order, before it is yielded (e.g. for a progress bar). */
  onResult?: (result: PredictionResult, index: number) => void;
  /** Largest width x height decoded; bigger images become 'too-large' failures. */
  maxPixels?: number;
  /** Stops before the next batch; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
  /** Images read and decoded at once while the model runs (default: libuv pool size). */
  concurrency?: number;
  /**
   * Worker threads that read, decode and resize (default: cores - 1, 1 to 4). 0 prepares photos
   * on the calling thread, between model runs. Lists of one batch or less always do that, as a
   * worker costs more to start than such a list takes.
   */
  preprocessWorkers?: number;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} should be a positive integer, got ${value}`);
  return value;
}

export class Classifier {
  readonly labels: readonly string[];
  readonly executionProvider: string;
  /** One reusable input buffer per batch length, so steady-state batches allocate nothing. */
  private readonly batchBuffers = new Map<number, Float32Array>();
  /** Runs go one at a time: concurrent callers (a server) would otherwise share batch buffers. */
  private queue: Promise<unknown> = Promise.resolve();
  private preparePool?: PreparePool;

  constructor(
    private readonly session: OnnxSession,
    readonly spec: ModelSpec,
    readonly modelPath: string,
  ) {
    this.labels = spec.labels;
    this.executionProvider = session.executionProvider;
  }

  /** Values in one preprocessed image (height x width x 3). */
  get inputSize(): number {
    return this.spec.preprocess.height * this.spec.preprocess.width * 3;
  }

  /** Class probabilities for preprocessed images (HWC floats), in one runtime call. */
  classifyBatch(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.enqueue(() => this.runBatch(inputs));
  }

  /**
   * Class probabilities for the first `count` inputs already laid end to end in `batch` (a
   * caller's reusable buffer), without copying them.
   */
  classifyPacked(batch: Float32Array, count: number): Promise<Float32Array[]> {
    if (!(Number.isInteger(count) && count >= 1 && batch.length >= count * this.inputSize)) {
      return Promise.reject(new RangeError(`a batch of ${count} inputs needs ${count * this.inputSize} values, got ${batch.length}`));
    }
    return this.enqueue(() => this.runPacked(batch, count));
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const job = this.queue.then(run);
    this.queue = job.catch(() => {});
    return job;
  }

  private async runBatch(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    if (inputs.length === 0) return [];
    const size = this.inputSize;
    let batch = this.batchBuffers.get(inputs.length);
    if (!batch) {
      batch = new Float32Array(inputs.length * size);
      this.batchBuffers.set(inputs.length, batch);
    }
    inputs.forEach((input, i) => {
      if (input.length !== size) throw new RangeError(`input ${i} holds ${input.length} values, the model takes ${size}`);
      batch.set(input, i * size);
    });
    return this.runPacked(batch, inputs.length);
  }

  /** Runs the first `count` inputs already packed in `batch`; one probability row per input. */
  private async runPacked(batch: Float32Array, count: number): Promise<Float32Array[]> {
    const { height, width } = this.spec.preprocess;
    const input = batch.length === count * this.inputSize ? batch : batch.subarray(0, count * this.inputSize);
    const output = await this.session.run(input, [count, height, width, 3]);
    const classes = this.labels.length;
    if (output.data.length !== count * classes) {
      throw new Error(`${this.modelPath}: model returned ${output.data.length} scores for ${count} images of ${classes} classes`);
    }
    return Array.from({ length: count }, (_, i) => output.data.slice(i * classes, (i + 1) * classes));
  }

  /** Classifies one encoded image (an upload, say); a bad image gives a failure result. */
  async classifyImage(image: Uint8Array, name: string, options: { topK?: number; maxPixels?: number } = {}): Promise<PredictionResult> {
    const prepared = await prepareImage(image, name, this.spec.preprocess, options.maxPixels);
    return (await this.predict([prepared], this.topKFor(options.topK)))[0];
  }

  /**
   * Classifies image files, yielding one result per file in input order. Files are read, decoded
   * and resized on worker threads while the previous batch runs in ONNX Runtime; unreadable or
   * undecodable files yield failures and the rest are still classified.
   */
  async *classifyFiles(files: readonly string[], options: ClassifyFilesOptions = {}): AsyncGenerator<PredictionResult> {
    const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize');
    const concurrency = positiveInteger(options.concurrency ?? DEFAULT_DECODES_IN_FLIGHT, 'concurrency');
    const workers = options.preprocessWorkers ?? defaultPrepareWorkers();
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`preprocessWorkers should be 0 or a positive integer, got ${workers}`);
    const k = this.topKFor(options.topK);
    options.signal?.throwIfAborted();
    const pool = workers > 0 && files.length > batchSize ? this.workersFor(workers) : undefined;
    // Two batches ahead lets the next batch finish decoding while this one runs.
    const lookahead = Math.max(batchSize * 2, concurrency);
    // Each photo is resized straight into its slot of a staging buffer: no array per photo. Photo
    // i goes to slot i % batchSize of buffer floor(i / batchSize) % R. While batch b runs, photos
    // up to b's end + lookahead may be in preparation, i.e. batches b+1 .. b+ceil(lookahead /
    // batchSize), so R = that + 1 buffers are never written while read. A short list needs no
    // more buffers than it has batches, nor longer ones than it has photos.
    const size = this.inputSize;
    const buffers = Math.min(Math.ceil(lookahead / batchSize) + 1, Math.ceil(files.length / batchSize));
    const length = Math.min(batchSize, files.length) * size;
    const ring = Array.from({ length: buffers }, () => (pool ? sharedFloat32(length) : new Float32Array(length)));
    const slotOf = (index: number): InputSlot => ({ out: ring[Math.floor(index / batchSize) % ring.length], offset: (index % batchSize) * size });
    const prepare = pool
      ? (file: string, index: number) => pool.prepare(file, this.spec.preprocess, options.maxPixels, slotOf(index))
      : (file: string, index: number) => prepareFile(file, this.spec.preprocess, options.maxPixels, slotOf(index));
    const pending = new OrderedPool(
      files.map((file, index) => ({ file, index })),
      ({ file, index }) => prepare(file, index),
      // Handing workers the whole lookahead keeps them busy while this thread is blocked in
      // `run`; memory stays bounded by the lookahead either way.
      { concurrency: pool ? lookahead : concurrency, lookahead },
    );
    let index = 0;
    try {
      while (pending.remaining > 0) {
        options.signal?.throwIfAborted();
        const batch: Prepared[] = [];
        while (batch.length < batchSize && pending.remaining > 0) batch.push(await pending.next());
        for (const result of await this.predict(batch, k)) {
          // Not `onResult?.(result, index++)`: without a callback that skips the increment too.
          options.onResult?.(result, index);
          index++;
          yield result;
        }
      }
    } finally {
      pending.close();
    }
  }

  /** The classifier's preprocessing workers, started on first use and kept until release(). */
  private workersFor(count: number): PreparePool {
    if (this.preparePool?.size !== count) {
      void this.preparePool?.close();
      this.preparePool = new PreparePool(count);
    }
    return this.preparePool;
  }

  async release(): Promise<void> {
    await this.preparePool?.close();
    this.preparePool = undefined;
    await this.session.release();
  }

  private topKFor(requested: number | undefined): number {
    return Math.min(positiveInteger(requested ?? DEFAULT_TOP_K, 'topK'), this.labels.length);
  }

  private async predict(batch: readonly Prepared[], k: number): Promise<PredictionResult[]> {
    const ready = batch.filter((item): item is { file: string; input: Float32Array } => 'input' in item);
    const probs = await this.classifyBatch(ready.map((item) => item.input));
    let next = 0;
    return batch.map((item) => ('input' in item ? toPrediction(item.file, probs[next++], this.labels, k) : item));
  }
}
