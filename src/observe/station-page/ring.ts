/**
 * A fixed-capacity ring buffer: pushing onto a full ring overwrites the oldest item. What keeps the live station
 * page's memory flat however long the line runs (the last N frames with their images, the last M verdicts).
 */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Expected a positive integer for capacity but received ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds an item; returns the one it overwrote (the oldest), if the ring was full. */
  push(item: T): T | undefined {
    const evicted = this.count === this.capacity ? this.items[this.next] : undefined;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    return evicted;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) out.push(this.items[(start + k) % this.capacity]!);
    return out;
  }

  /** The newest item matching `predicate`. */
  findLast(predicate: (item: T) => boolean): T | undefined {
    for (let k = 1; k <= this.count; k++) {
      const item = this.items[(this.next - k + this.capacity) % this.capacity]!;
      if (predicate(item)) return item;
    }
    return undefined;
  }
}
