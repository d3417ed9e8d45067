/**
 * A counting semaphore: at most `slots` holders at a time, FIFO. With one slot it is the inference lane:
 * a CPU back end already uses every core for one frame, so running two at once only makes both slower,
 * while decode and scoring of neighbouring frames overlap it.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`Expected a positive integer for slots but received ${slots}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // hand the slot over directly: `active` stays the same
      else this.active -= 1;
    }
  }

  get busy(): number {
    return this.active;
  }
}
