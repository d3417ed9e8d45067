/**
 * Live spool entries in key order. Keys come from a counter, so new entries always append; deleting leaves a
 * hole in `keys` that is skipped and reclaimed later. `firstAfter` is a binary search, so a publisher that
 * walks the spool while entries are added and acknowledged never rescans what it has already sent.
 */
export class KeyIndex<M> {
  private keys: number[] = [];
  private head = 0;
  private readonly live = new Map<number, M>();

  get size(): number {
    return this.live.size;
  }

  get lastKey(): number {
    return this.keys.length > this.head ? this.keys[this.keys.length - 1]! : 0;
  }

  /** Adds a key greater than every key added before. */
  append(key: number, meta: M): void {
    if (key <= this.lastKey) throw new RangeError(`spool key ${key} is not greater than ${this.lastKey}`);
    this.keys.push(key);
    this.live.set(key, meta);
  }

  /** Replaces the metadata of a live key (its bytes moved); false if the key is gone. */
  update(key: number, meta: M): boolean {
    if (!this.live.has(key)) return false;
    this.live.set(key, meta);
    return true;
  }

  get(key: number): M | undefined {
    return this.live.get(key);
  }

  delete(key: number): M | undefined {
    const meta = this.live.get(key);
    if (meta === undefined) return undefined;
    this.live.delete(key);
    this.trimHead();
    if (this.keys.length - this.head > 4096 && this.keys.length - this.head > 4 * this.live.size) this.rebuild();
    return meta;
  }

  /** The oldest live entry with a key greater than `after`. */
  firstAfter(after: number): [number, M] | undefined {
    let lo = this.head;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      const meta = this.live.get(key);
      if (meta !== undefined) return [key, meta];
    }
    return undefined;
  }

  oldest(): [number, M] | undefined {
    return this.firstAfter(0);
  }

  /** Live entries oldest first (a snapshot). */
  entries(): [number, M][] {
    const out: [number, M][] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const meta = this.live.get(this.keys[i]!);
      if (meta !== undefined) out.push([this.keys[i]!, meta]);
    }
    return out;
  }

  private trimHead(): void {
    while (this.head < this.keys.length && !this.live.has(this.keys[this.head]!)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
  }

  private rebuild(): void {
    this.keys = this.keys.slice(this.head).filter((k) => this.live.has(k));
    this.head = 0;
  }
}
