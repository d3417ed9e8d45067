/**
 * Reconnect delays: exponential with "equal jitter" — the delay for attempt n is uniformly drawn from
 * [cap/2, cap] with cap = min(maxMs, initialMs · factor^n). The jitter spreads the reconnects of a whole plant's
 * devices after a broker restart (MQTT.js's fixed reconnectPeriod makes them all arrive at once); keeping the
 * lower half means a device never hammers the broker with near-zero delays.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2 };

export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}
