import type { ModelSpec } from '../spec/index.ts';
import { OrderedPool } from './ordered-pool.ts';
import { toPrediction, type PredictionResult } from './prediction.ts';
import { prepareFile, prepareImage, type Prepared } from './prepare.ts';
import type { OnnxSession } from './runtime.ts';

export const DEFAULT_BATCH_SIZE = 16;
export const DEFAULT_TOP_K = 3;
// sharp decodes on libuv's thread pool, which has UV_THREADPOOL_SIZE (default 4) threads; more
// decodes in flight would only queue there while holding their file bytes in memory.
const DEFAULT_DECODES_IN_FLIGHT = Math.max(2, Number(process.env.UV_THREADPOOL_SIZE) || 4);

export interface ClassifyFilesOptions {
  /** Images per ONNX Runtime run (default 16). */
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
   * Classifies image files, yielding one result per file in input order. Files are read and
   * decoded on libuv's thread pool while the previous batch runs in ONNX Runtime; unreadable or
   * undecodable files yield failures and the rest are still classified.
   */
  async *classifyFiles(files: readonly string[], options: ClassifyFilesOptions = {}): AsyncGenerator<PredictionResult> {
    const batchSize = positiveInteger(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize');
    const concurrency = positiveInteger(options.concurrency ?? DEFAULT_DECODES_IN_FLIGHT, 'concurrency');
    const k = this.topKFor(options.topK);
    options.signal?.throwIfAborted();
    // Two batches ahead lets the next batch finish decoding while this one runs.
    const lookahead = Math.max(batchSize * 2, concurrency);
    // Each photo is resized straight into its slot of a batch buffer: no array per photo and no
    // copy before the run. Photo i goes to slot i % batchSize of buffer floor(i / batchSize) % R.
    // While batch b runs, photos up to b's end + lookahead may be in preparation, i.e. batches
    // b+1 .. b+ceil(lookahead / batchSize), so R = that + 1 buffers are never written while read.
    // A short list needs no more buffers than it has batches, nor longer ones than it has photos.
    const size = this.inputSize;
    const buffers = Math.min(Math.ceil(lookahead / batchSize) + 1, Math.ceil(files.length / batchSize));
    const ring = Array.from({ length: buffers }, () => new Float32Array(Math.min(batchSize, files.length) * size));
    const slotOf = (index: number) => ({ out: ring[Math.floor(index / batchSize) % ring.length], offset: (index % batchSize) * size });
    const pool = new OrderedPool(
      files.map((file, index) => ({ file, index })),
      ({ file, index }) => prepareFile(file, this.spec.preprocess, options.maxPixels, slotOf(index)),
      { concurrency, lookahead },
    );
    let index = 0;
    try {
      while (pool.remaining > 0) {
        options.signal?.throwIfAborted();
        const batch: Prepared[] = [];
        const buffer = slotOf(index).out;
        while (batch.length < batchSize && pool.remaining > 0) batch.push(await pool.next());
        for (const result of await this.predictPacked(batch, buffer, k)) {
          // Not `onResult?.(result, index++)`: without a callback that skips the increment too.
          options.onResult?.(result, index);
          index++;
          yield result;
        }
      }
    } finally {
      pool.close();
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private topKFor(requested: number | undefined): number {
    return Math.min(positiveInteger(requested ?? DEFAULT_TOP_K, 'topK'), this.labels.length);
  }

  /**
   * Like predict, for a batch whose inputs sit in order in `buffer` (see classifyFiles). Failed
   * photos leave their slots empty, so the good ones are first moved up to close the gaps.
   */
  private async predictPacked(batch: readonly Prepared[], buffer: Float32Array, k: number): Promise<PredictionResult[]> {
    const size = this.inputSize;
    let count = 0;
    for (const item of batch) {
      if (!('input' in item)) continue;
      const at = item.input.byteOffset / Float32Array.BYTES_PER_ELEMENT;
      if (item.input.buffer !== buffer.buffer || at % size !== 0) throw new Error('internal: a prepared input is not in its batch buffer');
      if (at !== count * size) buffer.copyWithin(count * size, at, at + size);
      count++;
    }
    const probs = count === 0 ? [] : await this.enqueue(() => this.runPacked(buffer, count));
    let next = 0;
    return batch.map((item) => ('input' in item ? toPrediction(item.file, probs[next++], this.labels, k) : item));
  }

  private async predict(batch: readonly Prepared[], k: number): Promise<PredictionResult[]> {
    const ready = batch.filter((item): item is { file: string; input: Float32Array } => 'input' in item);
    const probs = await this.classifyBatch(ready.map((item) => item.input));
    let next = 0;
    return batch.map((item) => ('input' in item ? toPrediction(item.file, probs[next++], this.labels, k) : item));
  }
}
