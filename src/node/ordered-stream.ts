// Runs async tasks ahead of their consumer but hands results back strictly in input order, over a
// source of any length (a folder walk of 10 million photos): items are pulled from an async
// iterator only as fast as the consumer takes results. Two bounds keep memory flat: `concurrency`
// caps tasks in flight (each holds a decoded full-size photo), `lookahead` caps items pulled
// beyond the last result taken (finished or not).

export interface OrderedStreamOptions {
  concurrency: number;
  lookahead: number;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };
/** What a position in the stream turns out to be: a task's outcome, or the end of the source. */
type Slot<R> = Settled<R> | { end: true };

interface Deferred<V> {
  promise: Promise<V>;
  resolve: (value: V) => void;
}

function deferred<V>(): Deferred<V> {
  let resolve!: (value: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

export class OrderedStream<T, R> {
  /** Positions started or awaited and not yet handed over; at most lookahead + 1 at a time. */
  private readonly slots = new Map<number, Deferred<Slot<R>>>();
  private started = 0;
  private taken = 0;
  private running = 0;
  private pulling = false;
  private ended = false;
  /** How positions past the source's end settle: the end, or the error the source failed with. */
  private endOutcome: Slot<R> = { end: true };
  private closed = false;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly task: (item: T) => Promise<R>,
    private readonly options: OrderedStreamOptions,
  ) {
    if (options.concurrency < 1 || options.lookahead < 1) throw new RangeError('concurrency and lookahead should be at least 1');
    this.pump();
  }

  /** The next result in input order, or done once the source has ended; rethrows a task's (or the source's) error. */
  async next(): Promise<IteratorResult<R, undefined>> {
    const index = this.taken++;
    const slot = this.ended && index >= this.started ? { promise: Promise.resolve(this.endOutcome) } : this.slot(index);
    this.pump();
    const settled = await slot.promise;
    this.slots.delete(index); // let the result be collected once handed over
    if ('end' in settled) {
      this.taken = Math.min(this.taken, this.started);
      return { done: true, value: undefined };
    }
    if (!settled.ok) throw settled.error;
    return { done: false, value: settled.value };
  }

  /** Pulls and starts nothing more, and lets the source clean up; tasks already running finish and are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // An async generator queues return() behind a pull in progress, so this is safe at any time.
    void this.source.return?.(undefined)?.catch(() => {});
  }

  private slot(index: number): Deferred<Slot<R>> {
    let slot = this.slots.get(index);
    if (!slot) this.slots.set(index, (slot = deferred()));
    return slot;
  }

  /** Positions from `from` on will never be started: they end the stream (or carry its error). */
  private finish(from: number, outcome: Slot<R>): void {
    this.ended = true;
    this.endOutcome = outcome;
    for (const [index, slot] of this.slots) if (index >= from) slot.resolve(outcome);
  }

  private pump(): void {
    if (this.pulling || this.closed || this.ended) return;
    if (this.running >= this.options.concurrency || this.started >= this.taken + this.options.lookahead) return;
    // One pull at a time: an iterator's items come in order, and a walk does its own I/O per pull.
    this.pulling = true;
    this.source.next().then(
      (result) => {
        this.pulling = false;
        if (this.closed) return;
        if (result.done) {
          this.finish(this.started, { end: true });
          return;
        }
        this.start(this.started++, result.value);
        this.pump();
      },
      (error: unknown) => {
        this.pulling = false;
        // A source that fails (a walk that cannot go on) fails the position it was asked for.
        this.finish(this.started, { ok: false, error });
      },
    );
  }

  private start(index: number, item: T): void {
    const slot = this.slot(index);
    this.running++;
    // Settling into a value means a result nobody takes (after close) never becomes an unhandled rejection.
    this.task(item)
      .then((value): Settled<R> => ({ ok: true, value }), (error: unknown): Settled<R> => ({ ok: false, error }))
      .then((settled) => {
        this.running--;
        slot.resolve(settled);
        this.pump();
      });
  }
}

/** An iterator over `head` followed by what is left of `rest`. */
export async function* chain<T>(head: readonly T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield* head;
  try {
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    await rest.return?.(undefined);
  }
}
