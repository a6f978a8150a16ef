// Runs async tasks ahead of their consumer but hands results back strictly in input order.
// Two bounds keep memory flat on folders of 100k photos: `concurrency` caps tasks in flight
// (each holds a decoded full-size photo), `lookahead` caps finished results not yet taken.

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface OrderedPoolOptions {
  concurrency: number;
  lookahead: number;
}

export class OrderedPool<T, R> {
  private readonly results: Promise<Settled<R>>[] = [];
  private started = 0;
  private taken = 0;
  private running = 0;
  private closed = false;

  constructor(
    private readonly items: readonly T[],
    private readonly task: (item: T) => Promise<R>,
    private readonly options: OrderedPoolOptions,
  ) {
    if (options.concurrency < 1 || options.lookahead < 1) throw new RangeError('concurrency and lookahead should be at least 1');
    this.fill();
  }

  get remaining(): number {
    return this.items.length - this.taken;
  }

  /** The next result in input order; rethrows that task's error. */
  async next(): Promise<R> {
    if (this.taken >= this.items.length) throw new RangeError('no items left');
    const index = this.taken++;
    this.fill();
    const settled = await this.results[index];
    delete this.results[index]; // let the result be collected once handed over
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  /** Starts nothing more; tasks already running finish and are dropped. */
  close(): void {
    this.closed = true;
  }

  private fill(): void {
    while (
      !this.closed &&
      this.started < this.items.length &&
      this.running < this.options.concurrency &&
      this.started < this.taken + this.options.lookahead
    ) {
      const item = this.items[this.started];
      this.running++;
      // Settling into a value means a result nobody takes (after close) never becomes an
      // unhandled rejection.
      this.results[this.started++] = this.task(item)
        .then((value): Settled<R> => ({ ok: true, value }), (error: unknown): Settled<R> => ({ ok: false, error }))
        .finally(() => {
          this.running--;
          this.fill();
        });
    }
  }
}
