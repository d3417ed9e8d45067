import { MmaerecError } from '../../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { KeyIndex } from './key-index.js';

/**
 * The outbox of the MQTT sink, behind one small interface (as MQTT.js does with its Store) so the memory and
 * disk implementations pass one contract test suite (test/publish/spool-contract.ts).
 *
 * An entry is an opaque byte string. `put` gives it a key that is greater than every earlier key, so
 * `iterate` (oldest first) is delivery order. Size is bounded by `maxBytes` of entry values; when a put would
 * exceed it, `whenFull` decides: 'reject-new' rejects the put with E_SPOOL (nothing already accepted is lost),
 * 'drop-oldest' deletes the oldest entries to make room, counts them in `stats().dropped` and logs a warning.
 */
export interface SpoolEntry {
  key: number;
  value: Uint8Array;
}

export interface SpoolStats {
  entries: number;
  /** Sum of entry value sizes (what `maxBytes` bounds). */
  bytes: number;
  maxBytes: number;
  /** Entries deleted by the drop-oldest policy since open. */
  dropped: number;
  /** Puts refused by the reject-new policy since open. */
  rejected: number;
}

export interface SpoolStore {
  readonly kind: 'memory' | 'disk';
  /** Stores a value; resolves with its key once stored as durably as the store promises (see fsync policy). */
  put(value: Uint8Array): Promise<number>;
  get(key: number): Promise<Uint8Array | undefined>;
  /** Removes an entry (an acknowledged event); resolves false when it was not there. */
  del(key: number): Promise<boolean>;
  /** Live entries with keys greater than `after`, oldest first; entries added while iterating are included. */
  iterate(after?: number): AsyncIterableIterator<SpoolEntry>;
  /** Makes everything put so far durable now (fsync for the disk store). */
  sync(): Promise<void>;
  stats(): SpoolStats;
  close(): Promise<void>;
}

export type WhenFull = 'reject-new' | 'drop-oldest';
/** 'always': fsync before put resolves. 'interval': write() before put resolves, fsync every fsyncIntervalMs. 'never': the OS decides. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface CommonSpoolOptions {
  /** Bound on the bytes of stored values (default 256 MiB). */
  maxBytes?: number;
  /** What a put does when the spool is full (default 'reject-new'). */
  whenFull?: WhenFull;
  logger?: Logger;
}

export interface MemorySpoolOptions extends CommonSpoolOptions {
  kind: 'memory';
}

export interface DiskSpoolOptions extends CommonSpoolOptions {
  kind: 'disk';
  /** Directory of the segment files; created if missing; one sink per directory (a lock file enforces it). */
  dir: string;
  /** Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Default 200 ms. */
  fsyncIntervalMs?: number;
  /** A segment file is closed and a new one started past this size (default 4 MiB). */
  segmentBytes?: number;
  /** Mode of the segment files and the lock (default 0o600), set explicitly whatever the umask. */
  fileMode?: number;
  /** Mode of the spool folder when the spool creates it (default 0o700). */
  dirMode?: number;
}

export type SpoolOptions = MemorySpoolOptions | DiskSpoolOptions;

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

/** Opens a spool: an on-disk one (recovering what a previous process left) or an in-memory one. */
export async function createSpool(options: SpoolOptions): Promise<SpoolStore> {
  if (options.kind === 'disk') {
    const { DiskSpool } = await import('./disk.js');
    return DiskSpool.open(options);
  }
  const { MemorySpool } = await import('./memory.js');
  return new MemorySpool(options);
}

/**
 * Key order, size accounting and the full policy, shared by both stores. Subclasses store the bytes.
 * `bytes` counts entries in the index plus puts still being written, so the bound holds under concurrency.
 */
export abstract class IndexedSpool<M extends { length: number }> implements SpoolStore {
  abstract readonly kind: 'memory' | 'disk';
  protected readonly index = new KeyIndex<M>();
  protected bytes = 0;
  protected dropped = 0;
  protected rejected = 0;
  protected closed = false;
  protected readonly maxBytes: number;
  protected readonly whenFull: WhenFull;
  protected readonly logger: Logger;
  private lastFullLog = 0;

  constructor(options: CommonSpoolOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.whenFull = options.whenFull ?? 'reject-new';
    this.logger = options.logger ?? silentLogger;
    if (!Number.isInteger(this.maxBytes) || this.maxBytes <= 0) {
      throw new MmaerecError('E_CONFIG', `spool.maxBytes ${this.maxBytes} is invalid: give a positive whole number of bytes`);
    }
    if (this.whenFull !== 'reject-new' && this.whenFull !== 'drop-oldest') {
      throw new MmaerecError('E_CONFIG', `spool.whenFull "${String(this.whenFull)}" is invalid: use "reject-new" or "drop-oldest"`);
    }
  }

  abstract put(value: Uint8Array): Promise<number>;
  abstract get(key: number): Promise<Uint8Array | undefined>;
  abstract del(key: number): Promise<boolean>;
  abstract sync(): Promise<void>;
  abstract close(): Promise<void>;
  /** Forgets an entry chosen by the drop-oldest policy (bookkeeping only; the index entry is already gone). */
  protected abstract forget(key: number, meta: M): void;

  stats(): SpoolStats {
    return { entries: this.index.size, bytes: this.bytes, maxBytes: this.maxBytes, dropped: this.dropped, rejected: this.rejected };
  }

  async *iterate(after = 0): AsyncIterableIterator<SpoolEntry> {
    let last = after;
    for (;;) {
      const next = this.index.firstAfter(last);
      if (!next) return;
      last = next[0];
      const value = await this.get(last);
      if (value !== undefined) yield { key: last, value };
    }
  }

  /** Reserves room for a value of `size` bytes or throws E_SPOOL, applying the full policy. */
  protected admit(size: number): void {
    if (this.closed) throw new MmaerecError('E_SPOOL', 'the event spool is closed: create a new sink (or spool) to accept more events');
    if (size > this.maxBytes) {
      this.rejected++;
      throw new MmaerecError('E_SPOOL', `an event of ${size} bytes is larger than the whole spool (spool.maxBytes ${this.maxBytes}): raise spool.maxBytes or lower heatmap.maxBytes`);
    }
    if (this.bytes + size <= this.maxBytes) {
      this.bytes += size;
      return;
    }
    if (this.whenFull === 'reject-new') {
      this.rejected++;
      this.logFull({ policy: 'reject-new', rejected: this.rejected }, 'event spool full: rejecting new events (policy reject-new)');
      throw new MmaerecError('E_SPOOL', `the event spool is full (${this.bytes} of ${this.maxBytes} bytes waiting for the broker): restore the broker connection, raise spool.maxBytes, or set spool.whenFull to "drop-oldest"`);
    }
    let droppedNow = 0;
    while (this.bytes + size > this.maxBytes) {
      const oldest = this.index.oldest();
      if (!oldest) break; // the rest is puts still being written; let this one through rather than drop them
      const [key, meta] = oldest;
      this.index.delete(key);
      this.bytes -= meta.length;
      this.forget(key, meta);
      droppedNow++;
    }
    this.dropped += droppedNow;
    this.bytes += size;
    this.logFull({ policy: 'drop-oldest', droppedNow, dropped: this.dropped }, 'event spool full: dropped the oldest events (policy drop-oldest)');
  }

  /** At most one full-spool log line per second: a backlog must not also flood the log. */
  private logFull(obj: object, msg: string): void {
    const now = Date.now();
    if (now - this.lastFullLog < 1000) return;
    this.lastFullLog = now;
    this.logger.warn({ ...obj, bytes: this.bytes, maxBytes: this.maxBytes }, msg);
  }
}
