/**
 * Jittered exponential backoff ("full jitter"): the n-th delay is uniform in [0, min(max, initial·2^n)].
 * Jitter keeps a plant's cameras from all reconnecting at the same instant after a shared outage.
 */
export interface BackoffOptions {
  /** First delay ceiling in ms (default 250). */
  initialMs?: number;
  /** Largest delay in ms (default 30 000). */
  maxMs?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0)) throw new RangeError(`Expected backoff initialMs > 0 but received ${this.initialMs}`);
    if (!(this.maxMs >= this.initialMs)) throw new RangeError(`Expected backoff maxMs >= initialMs but received ${this.maxMs}`);
  }

  /** The next delay in ms; each call doubles the ceiling until maxMs. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    // Never 0: a floor of a tenth of the initial delay stops a crash loop from spinning the CPU.
    return Math.max(this.initialMs / 10, Math.floor(this.random() * ceiling));
  }

  /** Call after a healthy period (the process delivered frames again). */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
