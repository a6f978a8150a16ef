// Admission at the door. At most `capacity` images are in the server at once, from the moment one
// is accepted until its batch has run: decoding, waiting for a batch, or in a worker's hands. Full
// batches need no more than one batch running and the next one gathering per worker (the default
// capacity); a deeper queue buys no throughput, only latency. So beyond peak, extra requests are
// turned away (429) at once and the accepted ones wait no longer than they do at peak. A service
// with a latency budget also sets `maxWaitMs`: an image is refused when the work ahead of it
// would keep it waiting longer, judged by how fast batches have been going.

export interface Ticket {
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

export interface AdmissionLoad {
  /** Images handed to workers and not finished yet (they hold no place of their own). */
  inFlight(): number;
  /** Recent milliseconds of inference per image, per worker; undefined before any batch ran. */
  msPerImage(): number | undefined;
  /** Workers sharing the queue. */
  workers(): number;
}

export type Refusal = { reason: 'queue-full' | 'wait-too-long'; expectedWaitMs?: number };

export class Admission {
  private held = 0;

  constructor(
    /** Most images accepted and not finished: decoding, waiting, or running. */
    readonly capacity: number,
    /** 0 turns the wait check off (count only). */
    readonly maxWaitMs = 0,
    private readonly load?: AdmissionLoad,
  ) {}

  /** Images accepted and not yet handed to a worker. */
  get depth(): number {
    return this.held;
  }

  /** Images accepted and not finished. */
  get inServer(): number {
    return this.held + (this.load?.inFlight() ?? 0);
  }

  /** Milliseconds a newly admitted image would wait for a worker, by the recent pace. */
  expectedWaitMs(): number | undefined {
    const perImage = this.load?.msPerImage();
    if (perImage === undefined || !this.load) return undefined;
    return ((this.held + this.load.inFlight()) * perImage) / Math.max(1, this.load.workers());
  }

  /** A place in the queue, or why there is none. */
  tryEnter(): Ticket | Refusal {
    if (this.inServer >= this.capacity) return { reason: 'queue-full', expectedWaitMs: this.expectedWaitMs() };
    if (this.maxWaitMs > 0) {
      const wait = this.expectedWaitMs();
      if (wait !== undefined && wait > this.maxWaitMs) return { reason: 'wait-too-long', expectedWaitMs: wait };
    }
    this.held++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held--;
      },
    };
  }
}

export function refused(entry: Ticket | Refusal): entry is Refusal {
  return 'reason' in entry;
}

/**
 * Per-image inference time as a moving average over batches. Recent batches weigh most, so the
 * estimate follows the machine when other work slows it down, without jumping on one slow batch.
 */
export class ServiceTime {
  private estimate?: number;

  constructor(private readonly weight = 0.2) {}

  observe(batchMs: number, images: number): void {
    if (images < 1 || !Number.isFinite(batchMs)) return;
    const perImage = batchMs / images;
    this.estimate = this.estimate === undefined ? perImage : this.estimate + this.weight * (perImage - this.estimate);
  }

  get msPerImage(): number | undefined {
    return this.estimate;
  }
}
