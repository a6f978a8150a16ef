// The bounded queue. An image holds a place from the moment it is accepted until a worker takes
// its batch, so decoded tensors waiting in memory never exceed `capacity`; overload is refused
// at the door (429) instead of growing latency without bound.

export interface Ticket {
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

export class Admission {
  private held = 0;

  constructor(readonly capacity: number) {}

  get depth(): number {
    return this.held;
  }

  /** A place in the queue, or undefined when it is full. */
  tryEnter(): Ticket | undefined {
    if (this.held >= this.capacity) return undefined;
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
