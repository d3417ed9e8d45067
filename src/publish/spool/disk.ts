import { resolve } from 'node:path';
import { MmaerecError } from '../../errors.js';
import { DIR_MODE, FILE_MODE, parseMode } from '../../util/files.js';
import { reclaimSegments } from './disk-compaction.js';
import { lockSpoolDir, unlockSpoolDir } from './disk-lock.js';
import { recoverSegments } from './disk-recovery.js';
import { readAt, SegmentLog, type DiskMeta } from './disk-segments.js';
import { WriteLoop, type PendingPut } from './disk-write-loop.js';
import { encodeDel, encodePut, PUT_VALUE_OFFSET } from './segment.js';
import { IndexedSpool, type DiskSpoolOptions } from './store.js';

/**
 * The durable spool: append-only segment files (`0000000001.seg`, …; format in segment.ts) in one directory.
 *
 * This file holds the spool's API and the commit of one batch; the parts live beside it: the group-commit write
 * loop (disk-write-loop.ts), the segment files (disk-segments.ts), deleting and compacting them
 * (disk-compaction.ts), reading them back at open (disk-recovery.ts), and the folder lock (disk-lock.ts).
 *
 * Writes are group-committed: puts arriving while a write is in progress go out together in the next write(),
 * so throughput does not depend on one syscall (or one fsync) per event. Fsync policy (`fsync`):
 * - 'always': fdatasync before a put resolves — an accepted event survives power loss.
 * - 'interval' (default): a put resolves once write() returned — it survives a crash or SIGKILL of the process;
 *   the file is fdatasync'ed every `fsyncIntervalMs` (200 ms), bounding what a power cut can take.
 * - 'never': the OS writes back when it likes (tests, tmpfs).
 * Acknowledged entries are recorded as DEL records (tombstones, never fsync'ed on their own: a lost tombstone
 * only means a duplicate after restart, never a loss). A segment is deleted once it and every older segment hold
 * no live entry, oldest first: a tombstone always sits in the same or a later segment than the entry it
 * cancels, so deleting in order never removes a tombstone while its entry's segment is still on disk.
 * A head segment that is mostly dead (an entry the broker keeps refusing) is compacted: its live entries are
 * rewritten, with their keys, at the tail, so a stuck entry cannot pin the disk.
 */
const CACHE_BYTES = 16 * 1024 * 1024;

export class DiskSpool extends IndexedSpool<DiskMeta> {
  readonly kind = 'disk' as const;
  readonly dir: string;
  private readonly log: SegmentLog;
  private readonly writes = new WriteLoop((puts, dels) => this.commit(puts, dels));
  private readonly fileMode: number;
  private readonly dirMode: number;
  private seq = 0;
  private cachedBytes = 0;
  private timer?: NodeJS.Timeout;

  private constructor(options: DiskSpoolOptions) {
    super(options);
    this.dir = resolve(options.dir);
    this.fileMode = options.fileMode ?? FILE_MODE;
    this.dirMode = options.dirMode ?? DIR_MODE;
    this.log = new SegmentLog(this.dir, options.fsync ?? 'interval', options.segmentBytes ?? 4 * 1024 * 1024, this.fileMode);
  }

  /** Opens (creating if needed) the spool in `options.dir` and recovers what is there. */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    checkOptions(options);
    const spool = new DiskSpool(options);
    await lockSpoolDir(spool.dir, { dirMode: spool.dirMode, fileMode: spool.fileMode, logger: spool.logger });
    try {
      await spool.recover();
      await spool.log.startSegment();
      await spool.reclaim();
    } catch (err) {
      await spool.releaseFiles();
      throw err;
    }
    if (spool.log.fsync === 'interval') {
      spool.timer = setInterval(() => void spool.log.syncNow().catch(() => undefined), options.fsyncIntervalMs ?? 200);
      spool.timer.unref();
    }
    return spool;
  }

  put(value: Uint8Array): Promise<number> {
    if (!(value instanceof Uint8Array)) return Promise.reject(new TypeError('Expected a Uint8Array for value'));
    try {
      this.admit(value.byteLength);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = ++this.seq;
    const record = encodePut(key, value);
    return new Promise<number>((resolve, reject) => this.writes.put({ key, record, length: value.byteLength, resolve, reject }));
  }

  async get(key: number): Promise<Uint8Array | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const meta = this.index.get(key);
      if (!meta) return undefined;
      if (meta.value) return meta.value;
      try {
        return await readAt(meta.seg.fh, meta.offset, meta.length);
      } catch {
        // The segment was compacted away between lookup and read: look the key up again.
      }
    }
    return undefined;
  }

  del(key: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const meta = this.index.delete(key);
    if (!meta) return Promise.resolve(false);
    this.bytes -= meta.length;
    this.release(meta);
    this.writes.del(key); // the tombstone goes out with the next batch (disk-write-loop.ts)
    return Promise.resolve(true);
  }

  /** Writes pending tombstones and fsyncs everything written so far. */
  async sync(): Promise<void> {
    await this.writes.drain();
    await this.log.syncNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.writes.stop();
    try {
      await this.writes.drain();
      if (this.log.fsync !== 'never') await this.log.syncNow();
    } finally {
      // Even when the last fsync fails: open handles and the lock would make a reopen in this process fail.
      await this.releaseFiles();
    }
  }

  protected forget(key: number, meta: DiskMeta): void {
    this.release(meta);
    this.writes.del(key);
  }

  private release(meta: DiskMeta): void {
    meta.seg.live--;
    meta.seg.liveBytes -= meta.length;
    if (meta.value) this.cachedBytes -= meta.length;
  }

  /** Writes one batch of puts and tombstones, indexes the puts and settles their promises; never throws. */
  private async commit(puts: PendingPut[], dels: number[]): Promise<void> {
    const parts = puts.map((p) => p.record);
    if (dels.length) parts.push(encodeDel(dels));
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    try {
      const { seg, start } = await this.log.append(data);
      if (this.log.fsync === 'always' && puts.length) await this.log.syncNow();
      let offset = start;
      for (const p of puts) {
        const meta: DiskMeta = { length: p.length, seg, offset: offset + PUT_VALUE_OFFSET };
        if (this.cachedBytes + p.length <= CACHE_BYTES) {
          meta.value = p.record.subarray(PUT_VALUE_OFFSET);
          this.cachedBytes += p.length;
        }
        this.index.append(p.key, meta);
        seg.live++;
        seg.liveBytes += p.length;
        offset += p.record.length;
        p.resolve(p.key);
      }
    } catch (err) {
      // The segment may now end in a partial record; recovery would stop there, so append nothing after it.
      this.log.active.sealed = true;
      const error = new MmaerecError('E_SPOOL', `cannot write the event spool in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): free disk space or point spool.dir at a writable disk`, { cause: err });
      for (const p of puts) {
        this.bytes -= p.length;
        p.reject(error);
      }
      if (dels.length) this.logger.warn({ dir: this.dir, keys: dels.length }, 'spool: could not record acknowledgements; those events may be delivered again after a restart');
    }
    try {
      await this.reclaim();
    } catch (err) {
      // Nobody awaits the write loop, so a throw here was an unhandled rejection (a crash) on a full disk.
      // A compaction write that failed may have left a partial record: append nothing more after it.
      this.log.active.sealed = true;
      this.logger.warn({ dir: this.dir, code: (err as NodeJS.ErrnoException).code }, `spool: could not reclaim or compact segment files (${(err as Error).message}): free disk space in spool.dir; events are kept`);
    }
  }

  /** Deletes acknowledged segments and compacts a pinned head (disk-compaction.ts). */
  private reclaim(): Promise<void> {
    return reclaimSegments(this.log, this.index, this.logger);
  }

  private async recover(): Promise<void> {
    const { segments, entries, seq } = await recoverSegments(this.dir, this.fileMode, this.logger);
    this.log.segments = segments;
    this.seq = seq;
    for (const e of entries) {
      this.index.append(e.key, { length: e.length, seg: e.seg, offset: e.offset });
      e.seg.live++;
      e.seg.liveBytes += e.length;
      this.bytes += e.length;
    }
    if (segments.length) {
      this.logger.info({ dir: this.dir, entries: entries.length, bytes: this.bytes, segments: segments.length }, `spool: recovered ${entries.length} unacknowledged events from ${segments.length} segment files`);
    }
  }

  private async releaseFiles(): Promise<void> {
    await this.log.closeAll();
    await unlockSpoolDir(this.dir);
  }
}

function checkOptions(o: DiskSpoolOptions): void {
  if (typeof o.dir !== 'string' || o.dir.length === 0) {
    throw new MmaerecError('E_CONFIG', 'spool.dir is missing: give a directory on persistent storage for unacknowledged events');
  }
  if (o.fsync !== undefined && !['always', 'interval', 'never'].includes(o.fsync)) {
    throw new MmaerecError('E_CONFIG', `spool.fsync "${String(o.fsync)}" is invalid: use "always", "interval" or "never"`);
  }
  if (o.fsyncIntervalMs !== undefined && !(Number.isInteger(o.fsyncIntervalMs) && o.fsyncIntervalMs > 0)) {
    throw new MmaerecError('E_CONFIG', `spool.fsyncIntervalMs ${String(o.fsyncIntervalMs)} is invalid: give a positive whole number of milliseconds`);
  }
  if (o.segmentBytes !== undefined && !(Number.isInteger(o.segmentBytes) && o.segmentBytes >= 4096)) {
    throw new MmaerecError('E_CONFIG', `spool.segmentBytes ${String(o.segmentBytes)} is invalid: give a whole number of bytes, at least 4096`);
  }
  if (o.fileMode !== undefined) parseMode(o.fileMode, 'spool.fileMode', 'file');
  if (o.dirMode !== undefined) parseMode(o.dirMode, 'spool.dirMode', 'dir');
}

