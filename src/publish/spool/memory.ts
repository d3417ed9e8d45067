import { MmaerecError } from '../../errors.js';
import { IndexedSpool, type MemorySpoolOptions } from './store.js';

interface MemoryMeta {
  length: number;
  value: Uint8Array;
}

/** An in-memory spool: survives broker outages, not process restarts. For tests and for hosts without disk. */
export class MemorySpool extends IndexedSpool<MemoryMeta> {
  readonly kind = 'memory' as const;
  private seq = 0;

  constructor(options: Omit<MemorySpoolOptions, 'kind'> = {}) {
    super(options);
  }

  async put(value: Uint8Array): Promise<number> {
    if (!(value instanceof Uint8Array)) throw new TypeError('Expected a Uint8Array for value');
    this.admit(value.byteLength);
    const key = ++this.seq;
    this.index.append(key, { length: value.byteLength, value: Uint8Array.from(value) });
    return key;
  }

  async get(key: number): Promise<Uint8Array | undefined> {
    return this.index.get(key)?.value;
  }

  async del(key: number): Promise<boolean> {
    const meta = this.index.delete(key);
    if (!meta) return false;
    this.bytes -= meta.length;
    return true;
  }

  async sync(): Promise<void> {
    if (this.closed) throw new MmaerecError('E_SPOOL', 'the event spool is closed: create a new sink (or spool)');
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  protected forget(): void {}
}
