import type { OnnxSession } from './runtime.ts';
import type { ModelSpec } from './spec.ts';
import { TtaViews, ttaName, type TtaSetting } from './tta.ts';

// What every front end (the CLI, the server's workers, a web page) does with an opened model:
// pack inputs into a batch, run it, and hand back probabilities. Decoding and resizing are the
// shells' business (src/node, src/browser); ranking is prediction.ts's.

export const DEFAULT_TOP_K = 3;

export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} should be a positive integer, got ${value}`);
  return value;
}

export interface ClassifierCoreOptions {
  /** Test-time augmentation (see tta.ts): 'off' (default), 'mirror', or a view count. */
  tta?: TtaSetting;
}

export class ClassifierCore {
  readonly labels: readonly string[];
  readonly executionProvider: string;
  /** The test-time augmentation every call runs, by its one name: 'off', 'mirror', '3' or '4'. */
  readonly tta: string;
  private readonly views: TtaViews;
  /** The views' batch buffer per photo count, reused like batchBuffers. */
  private readonly viewBuffers = new Map<number, Float32Array>();
  /** One reusable input buffer per batch length, so steady-state batches allocate nothing. */
  private readonly batchBuffers = new Map<number, Float32Array>();
  /** Runs go one at a time: concurrent callers would otherwise share batch buffers (and web sessions run one at a time). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    protected readonly session: OnnxSession,
    readonly spec: ModelSpec,
    /** The model's file or URL, for messages. */
    readonly source: string,
    options: ClassifierCoreOptions = {},
  ) {
    this.labels = spec.labels;
    this.executionProvider = session.executionProvider;
    this.tta = ttaName(options.tta ?? 'off');
    this.views = new TtaViews(options.tta ?? 'off', spec.preprocess.height, spec.preprocess.width);
  }

  /** Values in one preprocessed image (height x width x 3). */
  get inputSize(): number {
    return this.spec.preprocess.height * this.spec.preprocess.width * 3;
  }

  /** `requested` ranked labels (default 3), at most the label count. */
  topKFor(requested: number | undefined): number {
    return Math.min(positiveInteger(requested ?? DEFAULT_TOP_K, 'topK'), this.labels.length);
  }

  /** Class probabilities for preprocessed images (HWC floats), in one runtime call. */
  classifyBatch(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.enqueue(async () => {
      if (inputs.length === 0) return [];
      const size = this.inputSize;
      let batch = this.batchBuffers.get(inputs.length);
      if (!batch) {
        batch = new Float32Array(inputs.length * size);
        this.batchBuffers.set(inputs.length, batch);
      }
      inputs.forEach((input, i) => {
        if (input.length !== size) throw new RangeError(`input ${i} holds ${input.length} values, the model takes ${size}`);
        (batch as Float32Array).set(input, i * size);
      });
      const probs = await this.runPacked(batch, inputs.length);
      const classes = this.labels.length;
      return Array.from({ length: inputs.length }, (_, i) => probs.subarray(i * classes, (i + 1) * classes));
    });
  }

  /**
   * Probabilities (`count` rows of one per label, end to end) for the first `count` inputs already
   * laid end to end in `batch` (a caller's reusable buffer), without copying them.
   */
  classifyPacked(batch: Float32Array, count: number): Promise<Float32Array> {
    if (!(Number.isInteger(count) && count >= 1 && batch.length >= count * this.inputSize)) {
      return Promise.reject(new RangeError(`a batch of ${count} inputs needs ${count * this.inputSize} values, got ${batch.length}`));
    }
    return this.enqueue(() => this.runPacked(batch, count));
  }

  release(): Promise<void> {
    return this.session.release();
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const job = this.queue.then(run);
    this.queue = job.catch(() => {});
    return job;
  }

  /**
   * One runtime call for the batch. With TTA its views go along as extra rows of the same call
   * (one run of views x count images costs less than `views` runs), and each photo gets the mean
   * of its views' probabilities.
   */
  private async runPacked(batch: Float32Array, count: number): Promise<Float32Array> {
    const { height, width } = this.spec.preprocess;
    const views = this.views.views;
    const rows = count * views;
    let input = batch.length === count * this.inputSize ? batch : batch.subarray(0, count * this.inputSize);
    if (views > 1) {
      let expanded = this.viewBuffers.get(count);
      if (!expanded) {
        expanded = new Float32Array(rows * this.inputSize);
        this.viewBuffers.set(count, expanded);
      }
      this.views.expand(input, count, expanded);
      input = expanded;
    }
    const output = await this.session.run(input, [rows, height, width, 3]);
    const classes = this.labels.length;
    if (output.data.length !== rows * classes) {
      throw new Error(`${this.source}: model returned ${output.data.length} scores for ${rows} images of ${classes} classes`);
    }
    return views > 1 ? this.views.average(output.data, count, classes) : output.data;
  }
}
