// Admission at the door. An image holds a place from the moment it is accepted until a worker
// takes its batch, so decoded tensors waiting in memory never exceed `capacity`. A queue bounded
// only by count still lets latency grow: 256 places at 40 images/s is a 6 s wait. So an image is
// also refused (429) when the work already ahead of it would keep it waiting longer than
// `maxWaitMs`, judged by how fast batches have been going: beyond peak, extra requests are
// turned away at once and the accepted ones keep their latency.

export interface Ticket {
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

export interface AdmissionLoad {
  /** Images handed to workers and not finished yet. */
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
    readonly capacity: number,
    /** 0 turns the wait check off (count only). */
    readonly maxWaitMs = 0,
    private readonly load?: AdmissionLoad,
  ) {}

  get depth(): number {
    return this.held;
  }

  /** Milliseconds a newly admitted image would wait for a worker, by the recent pace. */
  expectedWaitMs(): number | undefined {
    const perImage = this.load?.msPerImage();
    if (perImage === undefined || !this.load) return undefined;
    return ((this.held + this.load.inFlight()) * perImage) / Math.max(1, this.load.workers());
  }

  /** A place in the queue, or why there is none. */
  tryEnter(): Ticket | Refusal {
    if (this.held >= this.capacity) return { reason: 'queue-full' };
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
