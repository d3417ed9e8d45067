/**
 * Retry delays, one policy for every reconnect in the SDK (camera processes, the MQTT broker): exponential
 * with "equal jitter" — the delay for attempt n is drawn uniformly from [cap/2, cap], cap = min(maxMs,
 * initialMs · factor^n). The jitter spreads the reconnects of a whole plant's devices after a shared outage
 * (MQTT.js's fixed reconnectPeriod, or plain doubling, makes them all arrive at once); keeping the lower half
 * means a crash loop never spins with near-zero delays.
 */
export interface BackoffPolicy {
  /** The first delay's ceiling in ms. */
  initialMs: number;
  /** The largest delay in ms. */
  maxMs: number;
  /** Growth of the ceiling per attempt (2: doubling). */
  factor: number;
}

/** The delay in ms before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(Math.max(0, attempt), 64));
  return Math.round(cap / 2 + random() * (cap / 2));
}

export interface BackoffOptions {
  /** First delay ceiling in ms (default 250). */
  initialMs?: number;
  /** Largest delay in ms (default 30 000). */
  maxMs?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

/** `backoffDelay` with its attempt counter, for a loop that retries until a healthy period resets it. */
export class Backoff {
  private attempt = 0;
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.policy = { initialMs: options.initialMs ?? 250, maxMs: options.maxMs ?? 30_000, factor: 2 };
    this.random = options.random ?? Math.random;
    if (!(this.policy.initialMs > 0)) throw new RangeError(`Expected backoff initialMs > 0 but received ${this.policy.initialMs}`);
    if (!(this.policy.maxMs >= this.policy.initialMs)) throw new RangeError(`Expected backoff maxMs >= initialMs but received ${this.policy.maxMs}`);
  }

  /** The next delay in ms; each call doubles the ceiling until maxMs. */
  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  /** Call after a healthy period (the process delivered frames again). */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
