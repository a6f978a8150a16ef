import { ClassifierCore, positiveInteger, toPrediction, type PredictionFailure, type PredictionResult } from '../core/index.ts';
import { chain, OrderedStream } from './ordered-stream.ts';
import { defaultPrepareWorkers, PreparePool, sharedFloat32 } from './prepare-pool.ts';
import { prepareFile, prepareImage, type InputSlot, type Prepared } from './prepare.ts';

// On CPU a batch of 8 ran fastest per image in every sweep here (BENCHMARKS.md "Inference":
// 1, 8, 16 and 32 measured); bigger batches only pay on a GPU, where --batch-size says so.
export const DEFAULT_BATCH_SIZE = 8;
// sharp decodes on libuv's thread pool, which has UV_THREADPOOL_SIZE (default 4) threads; more
// decodes in flight would only queue there while holding their file bytes in memory.
const DEFAULT_DECODES_IN_FLIGHT = Math.max(2, Number(process.env.UV_THREADPOOL_SIZE) || 4);

/** A file to classify, or a failure already known for it (a listing's), which passes through in place. */
export type FileEntry = string | PredictionFailure;

async function* toAsync<T>(iterator: Iterator<T>): AsyncGenerator<T> {
  for (let r = iterator.next(); !r.done; r = iterator.next()) yield r.value;
}

async function* numbered<T>(source: AsyncIterable<T>): AsyncGenerator<{ entry: T; index: number }> {
  let index = 0;
  for await (const entry of source) yield { entry, index: index++ };
}

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

/** The core classifier with Node's file reading, decoding on worker threads, and batching of folders. */
export class Classifier extends ClassifierCore {
  private preparePool?: PreparePool;

  /** The model file this classifier runs. */
  get modelPath(): string {
    return this.source;
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
    yield* this.classifyStream(files, options);
  }

  /**
   * classifyFiles for a source of any length (a folder walk, a queue): entries are pulled only a
   * few batches ahead of the results taken, so memory stays flat however many files there are.
   * A failure in the source (an entry a listing could not use) passes through in its place.
   */
  async *classifyStream(source: Iterable<FileEntry> | AsyncIterable<FileEntry>, options: ClassifyFilesOptions = {}): AsyncGenerator<PredictionResult> {
    const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize');
    const concurrency = positiveInteger(options.concurrency ?? DEFAULT_DECODES_IN_FLIGHT, 'concurrency');
    const workers = options.preprocessWorkers ?? defaultPrepareWorkers();
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`preprocessWorkers should be 0 or a positive integer, got ${workers}`);
    const k = this.topKFor(options.topK);
    options.signal?.throwIfAborted();
    const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
    // Up to one batch and one more entry tells a short list (not worth starting workers for)
    // from a long one without reading a long source to its end.
    const head: FileEntry[] = [];
    let known: number | undefined;
    while (head.length <= batchSize) {
      const next = await iterator.next();
      if (next.done) {
        known = head.length;
        break;
      }
      head.push(next.value);
    }
    if (known === 0) return;
    const pool = workers > 0 && (known === undefined || known > batchSize) ? await this.workersFor(workers) : undefined;
    // Two batches ahead lets the next batch finish decoding while this one runs.
    const lookahead = Math.max(batchSize * 2, concurrency);
    // Each photo is resized straight into its slot of a staging buffer: no array per photo. Photo
    // i goes to slot i % batchSize of buffer floor(i / batchSize) % R. While batch b runs, photos
    // up to b's end + lookahead may be in preparation, i.e. batches b+1 .. b+ceil(lookahead /
    // batchSize), so R = that + 1 buffers are never written while read. A short list needs no
    // more buffers than it has batches, nor longer ones than it has photos.
    const size = this.inputSize;
    const buffers = Math.min(Math.ceil(lookahead / batchSize) + 1, Math.ceil((known ?? Infinity) / batchSize));
    const length = Math.min(batchSize, known ?? batchSize) * size;
    const ring = Array.from({ length: buffers }, () => (pool ? sharedFloat32(length) : new Float32Array(length)));
    const slotOf = (index: number): InputSlot => ({ out: ring[Math.floor(index / batchSize) % ring.length], offset: (index % batchSize) * size });
    const prepare = pool
      ? (file: string, index: number) => pool.prepare(file, this.spec.preprocess, options.maxPixels, slotOf(index))
      : (file: string, index: number) => prepareFile(file, this.spec.preprocess, options.maxPixels, slotOf(index));
    const pending = new OrderedStream(
      numbered(chain(head, iterator)),
      async ({ entry, index }: { entry: FileEntry; index: number }): Promise<Prepared> => (typeof entry === 'string' ? prepare(entry, index) : entry),
      // Handing workers the whole lookahead keeps them busy while this thread is blocked in
      // `run`; memory stays bounded by the lookahead either way.
      { concurrency: pool ? lookahead : concurrency, lookahead },
    );
    let index = 0;
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        // Batches are whole but the last, so photo i is always in batch floor(i / batchSize), as the ring assumes.
        const batch: Prepared[] = [];
        while (batch.length < batchSize) {
          const next = await pending.next();
          if (next.done) break;
          batch.push(next.value);
        }
        if (batch.length === 0) break;
        for (const result of await this.predict(batch, k)) {
          // Not `onResult?.(result, index++)`: without a callback that skips the increment too.
          options.onResult?.(result, index);
          index++;
          yield result;
        }
        if (batch.length < batchSize) break;
      }
    } finally {
      pending.close();
    }
  }

  /** The classifier's preprocessing workers, started on first use and kept until release(). */
  private async workersFor(count: number): Promise<PreparePool> {
    if (this.preparePool?.size !== count) {
      void this.preparePool?.close();
      this.preparePool = await PreparePool.start(count);
    }
    return this.preparePool;
  }

  override async release(): Promise<void> {
    await this.preparePool?.close();
    this.preparePool = undefined;
    await super.release();
  }

  private async predict(batch: readonly Prepared[], k: number): Promise<PredictionResult[]> {
    const ready = batch.filter((item): item is { file: string; input: Float32Array } => 'input' in item);
    const probs = await this.classifyBatch(ready.map((item) => item.input));
    let next = 0;
    return batch.map((item) => ('input' in item ? toPrediction(item.file, probs[next++], this.labels, k) : item));
  }
}
