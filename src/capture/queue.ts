/**
 * A bounded FIFO between a frame producer (file reader, camera process, host app) and the pipeline.
 * - `block`: a full queue makes `push` wait — nothing is lost (files, where the producer can wait).
 * - `drop-oldest`: a full queue discards its oldest item and counts it — the freshest frames win
 *   (live cameras, where waiting would only make every result stale).
 */
export type BackpressurePolicy = 'block' | 'drop-oldest';

export interface QueueOptions {
  capacity: number;
  policy: BackpressurePolicy;
  /** Called with each item that `drop-oldest` discards (for logs / metrics). */
  onDrop?: (item: unknown) => void;
}

export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly policy: BackpressurePolicy;
  private readonly items: T[] = [];
  private readonly takers: Array<(r: IteratorResult<T>) => void> = [];
  private readonly pushers: Array<{ item: T; resolve: () => void; reject: (e: Error) => void }> = [];
  private closed = false;
  private droppedCount = 0;
  private readonly onDrop?: (item: unknown) => void;

  constructor(options: QueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity <= 0) {
      throw new TypeError(`Expected a positive integer for capacity but received ${String(options.capacity)}`);
    }
    if (options.policy !== 'block' && options.policy !== 'drop-oldest') {
      throw new TypeError(`Expected 'block' or 'drop-oldest' for policy but received ${String(options.policy)}`);
    }
    this.capacity = options.capacity;
    this.policy = options.policy;
    this.onDrop = options.onDrop;
  }

  /** Items discarded by `drop-oldest` so far. */
  get dropped(): number {
    return this.droppedCount;
  }

  get size(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adds an item. With `block` the promise resolves once the item is in the queue (waiting while full);
   * with `drop-oldest` it resolves at once. Rejects if the queue is closed (the consumer has gone).
   */
  push(item: T): Promise<void> {
    if (this.closed) return Promise.reject(new Error('queue is closed'));
    const taker = this.takers.shift();
    if (taker) {
      taker({ value: item, done: false });
      return Promise.resolve();
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return Promise.resolve();
    }
    if (this.policy === 'drop-oldest') {
      const old = this.items.shift() as T;
      this.items.push(item);
      this.droppedCount += 1;
      this.onDrop?.(old);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.pushers.push({ item, resolve, reject }));
  }

  /** Takes the next item; `done` once closed and drained. */
  take(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.admitPusher();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** No more items: takers see `done` after the remaining items; waiting pushers are rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.takers.splice(0)) t({ value: undefined, done: true });
    for (const p of this.pushers.splice(0)) p.reject(new Error('queue is closed'));
  }

  /** Discards everything not yet taken (used by a hard stop); returns how many were discarded. */
  clear(): number {
    const n = this.items.length;
    this.items.length = 0;
    return n;
  }

  private admitPusher(): void {
    const p = this.pushers.shift();
    if (!p) return;
    this.items.push(p.item);
    p.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.take() };
  }
}
