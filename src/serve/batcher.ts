// Dynamic batching: images from concurrent requests share one ONNX Runtime run, which costs far
// less per image than one run each. A batch leaves as soon as it is full (maxBatch), or once its
// oldest image has waited maxDelayMs, but only to a free worker: while every worker is busy,
// images keep gathering, so load makes batches bigger instead of queueing small ones.
//
// Each image is written straight into its seat of a batch buffer, and buffers come back from the
// workers with the results to be used again. A fresh 600 KB array per image, copied into a fresh
// batch that then died in the worker (what this did first), kept both threads collecting garbage:
// at 56 requests/s for 2 minutes, p99 went from 1095 ms that way to 81 ms this way, and the
// 10-minute soak's memory stopped growing (BENCHMARKS.md, "Server: latency, overload and memory").

export interface BatchRunner {
  /** Workers free to take a batch now. */
  readonly idle: number;
  /**
   * Runs the first `count` images laid end to end in `inputs` (which it may take over); resolves
   * with `count` x classes probabilities and, when it hands it back, the inputs' buffer for reuse.
   */
  run(inputs: Float32Array, count: number): Promise<BatchResult>;
}

export interface BatchResult {
  probs: Float32Array;
  inputs?: Float32Array;
}

/** Writes one image's model input into `out` at `offset`; called once its seat is known. */
export type InputWriter = (out: Float32Array, offset: number) => void;

export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Values in one model input. */
  inputSize: number;
  /** Probabilities per image. */
  classes: number;
  /** Called with each batch's size as it is handed to a worker. */
  onBatch?: (size: number) => void;
  /** Called per image as its batch is handed to a worker, with the ms it waited since submit. */
  onWait?: (ms: number) => void;
}

interface Item {
  since: number;
  onDispatch?: () => void;
  resolve: (probs: Float32Array) => void;
  reject: (error: Error) => void;
}

export class Batcher {
  private pending: Item[] = [];
  /** Buffers holding the pending images in order: every one full but the last. */
  private filling: Float32Array[] = [];
  /** Buffers back from the workers, ready to be filled again. */
  private spare: Float32Array[] = [];
  /** Batch buffers in existence: filling, spare, or in a worker's hands. */
  private buffers = 0;
  private timer?: NodeJS.Timeout;
  private timerDue = 0;
  private running = 0;

  constructor(
    private readonly runner: BatchRunner,
    private readonly options: BatcherOptions,
  ) {}

  get waiting(): number {
    return this.pending.length;
  }

  /** Memory held in batch buffers; it grows to what the deepest queue so far needed and stays. */
  get bufferBytes(): number {
    return this.buffers * this.options.maxBatch * this.options.inputSize * Float32Array.BYTES_PER_ELEMENT;
  }

  /** Images in batches that workers are running now. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Class probabilities for one image, which `write` puts into its seat in the next batch (at
   * once, before this returns); `onDispatch` runs when a worker takes the batch.
   */
  submit(write: InputWriter, onDispatch?: () => void): Promise<Float32Array> {
    const { maxBatch, inputSize } = this.options;
    const seat = this.pending.length % maxBatch;
    if (seat === 0) this.filling.push(this.spare.pop() ?? this.allocate());
    try {
      write(this.filling[this.filling.length - 1], seat * inputSize);
    } catch (error) {
      if (seat === 0) this.spare.push(this.filling.pop() as Float32Array);
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ since: performance.now(), onDispatch, resolve, reject });
      this.pump();
    });
  }

  /** Hands out every batch that is due while workers are free; call when a worker frees up. */
  pump(): void {
    const { maxBatch, maxDelayMs } = this.options;
    while (this.pending.length > 0 && this.runner.idle > 0) {
      const full = this.pending.length >= maxBatch;
      if (!full && performance.now() - this.pending[0].since < maxDelayMs) break;
      this.dispatch(this.pending.splice(0, maxBatch));
    }
    this.schedule();
  }

  /** Fails every image not yet handed to a worker. */
  close(error: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const item of this.pending.splice(0)) {
      item.onDispatch?.();
      item.reject(error);
    }
    this.spare.push(...this.filling.splice(0));
  }

  private allocate(): Float32Array {
    this.buffers++;
    return new Float32Array(this.options.maxBatch * this.options.inputSize);
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.runner.idle === 0) return;
    const due = this.pending[0].since + this.options.maxDelayMs;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, due - performance.now()),
    );
  }

  private dispatch(items: Item[]): void {
    const { maxBatch, inputSize, classes } = this.options;
    // Only a full batch leaves while others wait behind it, so the first buffer holds exactly these.
    const inputs = this.filling.shift() as Float32Array;
    const now = performance.now();
    for (const item of items) {
      item.onDispatch?.();
      this.options.onWait?.(now - item.since);
    }
    this.options.onBatch?.(items.length);
    this.running += items.length;
    this.runner
      .run(inputs, items.length)
      .finally(() => (this.running -= items.length))
      .then(
        ({ probs, inputs: returned }) => {
          if (returned?.length === maxBatch * inputSize) this.spare.push(returned);
          else this.buffers--;
          items.forEach((item, i) => item.resolve(probs.slice(i * classes, (i + 1) * classes)));
        },
        (error: Error) => {
          // The buffer went down with the run (a worker that died keeps it).
          this.buffers--;
          items.forEach((item) => item.reject(error));
        },
      );
  }
}
