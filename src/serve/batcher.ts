// Dynamic batching: images from concurrent requests share one ONNX Runtime run, which costs far
// less per image than one run each. A batch leaves as soon as it is full (maxBatch), or once its
// oldest image has waited maxDelayMs, but only to a free worker: while every worker is busy,
// images keep gathering, so load makes batches bigger instead of queueing small ones.

export interface BatchRunner {
  /** Workers free to take a batch now. */
  readonly idle: number;
  /** Runs `count` images laid end to end; resolves with `count` x classes probabilities. */
  run(inputs: Float32Array, count: number): Promise<Float32Array>;
}

export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Values in one model input. */
  inputSize: number;
  /** Probabilities per image. */
  classes: number;
  /** Called with each batch's size as it is handed to a worker. */
  onBatch?: (size: number) => void;
}

interface Item {
  input: Float32Array;
  since: number;
  onDispatch?: () => void;
  resolve: (probs: Float32Array) => void;
  reject: (error: Error) => void;
}

export class Batcher {
  private pending: Item[] = [];
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

  /** Images in batches that workers are running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Class probabilities for one preprocessed image; `onDispatch` runs when a worker takes it. */
  submit(input: Float32Array, onDispatch?: () => void): Promise<Float32Array> {
    if (input.length !== this.options.inputSize) {
      return Promise.reject(new RangeError(`input holds ${input.length} values, the model takes ${this.options.inputSize}`));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ input, since: performance.now(), onDispatch, resolve, reject });
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
    const { inputSize, classes } = this.options;
    const inputs = new Float32Array(items.length * inputSize);
    items.forEach((item, i) => {
      inputs.set(item.input, i * inputSize);
      item.onDispatch?.();
    });
    this.options.onBatch?.(items.length);
    this.running += items.length;
    this.runner
      .run(inputs, items.length)
      .finally(() => (this.running -= items.length))
      .then(
        (probs) => items.forEach((item, i) => item.resolve(probs.slice(i * classes, (i + 1) * classes))),
        (error: Error) => items.forEach((item) => item.reject(error)),
      );
  }
}
