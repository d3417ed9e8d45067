import { open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { MmaerecError } from '../../errors.js';
import { DIR_MODE, FILE_MODE, mkdirPrivate, octal, openPrivate, parseMode, writableByOthers, writeFilePrivate } from '../../util/files.js';
import { encodeDel, encodePut, MAGIC, parseSegment, PUT_VALUE_OFFSET } from './segment.js';
import { IndexedSpool, type DiskSpoolOptions, type FsyncPolicy } from './store.js';

/**
 * The durable spool: append-only segment files (`0000000001.seg`, …; format in segment.ts) in one directory.
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
interface Segment {
  no: number;
  path: string;
  fh: FileHandle;
  size: number;
  live: number;
  liveBytes: number;
  dirty: boolean;
  /** A write to it failed, so it may end in a partial record: nothing more is appended to it. */
  sealed: boolean;
}

interface DiskMeta {
  length: number;
  seg: Segment;
  offset: number;
  /** The value, kept while the cache budget allows so the publisher rarely reads the file back. */
  value?: Buffer;
}

interface PendingPut {
  key: number;
  record: Buffer;
  length: number;
  resolve(key: number): void;
  reject(err: unknown): void;
}

const SEGMENT_NAME = /^(\d{10})\.seg$/;
const CACHE_BYTES = 16 * 1024 * 1024;
const TOMBSTONE_DELAY_MS = 25;
const openDirs = new Set<string>();

export class DiskSpool extends IndexedSpool<DiskMeta> {
  readonly kind = 'disk' as const;
  readonly dir: string;
  private readonly fsync: FsyncPolicy;
  private readonly segmentBytes: number;
  private readonly fileMode: number;
  private readonly dirMode: number;
  private segments: Segment[] = [];
  private active!: Segment;
  private seq = 0;
  private cachedBytes = 0;
  private pendingPuts: PendingPut[] = [];
  private pendingDels: number[] = [];
  private tombstoneTimer?: NodeJS.Timeout;
  private writing: Promise<void> | null = null;
  private timer?: NodeJS.Timeout;
  private syncing: Promise<void> | null = null;

  private constructor(options: DiskSpoolOptions) {
    super(options);
    this.dir = resolve(options.dir);
    this.fsync = options.fsync ?? 'interval';
    this.segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.fileMode = options.fileMode ?? FILE_MODE;
    this.dirMode = options.dirMode ?? DIR_MODE;
  }

  /** Opens (creating if needed) the spool in `options.dir` and recovers what is there. */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    checkOptions(options);
    const spool = new DiskSpool(options);
    await spool.lock();
    try {
      await spool.recover();
      await spool.startSegment();
      await spool.reclaim();
    } catch (err) {
      await spool.releaseFiles();
      throw err;
    }
    if (spool.fsync === 'interval') {
      spool.timer = setInterval(() => void spool.syncNow().catch(() => undefined), options.fsyncIntervalMs ?? 200);
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
    return new Promise<number>((resolve, reject) => {
      this.pendingPuts.push({ key, record, length: value.byteLength, resolve, reject });
      this.schedule();
    });
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
    // The tombstone is written with the next batch of puts, or within TOMBSTONE_DELAY_MS: acknowledgements
    // come one by one, and a write per acknowledgement would cost more than the publishing itself. Losing
    // a tombstone in a crash only means a duplicate after the restart.
    this.pendingDels.push(key);
    this.scheduleTombstones();
    return Promise.resolve(true);
  }

  /** Writes pending tombstones and fsyncs everything written so far. */
  async sync(): Promise<void> {
    if (this.pendingDels.length) this.schedule();
    await this.idle();
    await this.syncNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.tombstoneTimer);
    this.tombstoneTimer = undefined;
    try {
      if (this.pendingDels.length) this.schedule();
      await this.idle();
      if (this.fsync !== 'never') await this.syncNow();
    } finally {
      // Even when the last fsync fails: open handles and the lock would make a reopen in this process fail.
      await this.releaseFiles();
    }
  }

  protected forget(key: number, meta: DiskMeta): void {
    this.release(meta);
    this.pendingDels.push(key);
    this.scheduleTombstones();
  }

  private scheduleTombstones(): void {
    if (this.tombstoneTimer || this.writing) return; // a running write loop picks them up
    this.tombstoneTimer = setTimeout(() => {
      this.tombstoneTimer = undefined;
      this.schedule();
    }, TOMBSTONE_DELAY_MS);
    this.tombstoneTimer.unref();
  }

  private release(meta: DiskMeta): void {
    meta.seg.live--;
    meta.seg.liveBytes -= meta.length;
    if (meta.value) this.cachedBytes -= meta.length;
  }

  private schedule(): void {
    if (this.writing) return;
    clearTimeout(this.tombstoneTimer);
    this.tombstoneTimer = undefined;
    this.writing = this.writeLoop().finally(() => {
      this.writing = null;
      if (this.pendingPuts.length || this.pendingDels.length) this.schedule();
    });
  }

  private async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    while (this.pendingPuts.length || this.pendingDels.length) {
      const puts = this.pendingPuts.splice(0);
      const dels = this.pendingDels.splice(0);
      const parts = puts.map((p) => p.record);
      if (dels.length) parts.push(encodeDel(dels));
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      try {
        await this.rollIfNeeded(data.length);
        const seg = this.active;
        const start = seg.size;
        await writeAt(seg.fh, data, start);
        seg.size += data.length;
        seg.dirty = true;
        if (this.fsync === 'always' && puts.length) await this.syncNow();
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
        this.active.sealed = true;
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
        // Nobody awaits this loop, so a throw here was an unhandled rejection (a crash) on a full disk.
        // A compaction write that failed may have left a partial record: append nothing more after it.
        this.active.sealed = true;
        this.logger.warn({ dir: this.dir, code: (err as NodeJS.ErrnoException).code }, `spool: could not reclaim or compact segment files (${(err as Error).message}): free disk space in spool.dir; events are kept`);
      }
    }
  }

  private async rollIfNeeded(incoming: number): Promise<void> {
    const seg = this.active;
    if (!seg.sealed && (seg.size <= MAGIC.length || seg.size + incoming <= this.segmentBytes)) return;
    if (seg.dirty && this.fsync !== 'never') {
      await seg.fh.datasync();
      seg.dirty = false;
    }
    await this.startSegment();
  }

  private async startSegment(): Promise<void> {
    const no = (this.segments.at(-1)?.no ?? 0) + 1;
    const path = join(this.dir, `${String(no).padStart(10, '0')}.seg`);
    const fh = await openPrivate(path, 'wx+', this.fileMode);
    await writeAt(fh, MAGIC, 0);
    if (this.fsync !== 'never') {
      await fh.datasync();
      await syncDir(this.dir);
    }
    const seg: Segment = { no, path, fh, size: MAGIC.length, live: 0, liveBytes: 0, dirty: false, sealed: false };
    this.segments.push(seg);
    this.active = seg;
  }

  /** Deletes fully acknowledged segments, oldest first; compacts a head segment pinned by a few entries. */
  private async reclaim(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0] !== this.active && this.segments[0]!.live === 0) {
      const seg = this.segments.shift()!;
      await seg.fh.close();
      await unlink(seg.path).catch(() => undefined);
    }
    const head = this.segments[0]!;
    if (this.segments.length >= 3 && head !== this.active && head.live > 0 && head.liveBytes * 8 < head.size) {
      await this.compact(head);
      if (head.live === 0) await this.reclaim();
    }
  }

  private async compact(head: Segment): Promise<void> {
    const moving = this.index.entries().filter(([, m]) => m.seg === head);
    const records: { key: number; record: Buffer }[] = [];
    for (const [key, meta] of moving) {
      const value = meta.value ?? (await readAt(head.fh, meta.offset, meta.length));
      records.push({ key, record: encodePut(key, value) });
    }
    const data = Buffer.concat(records.map((r) => r.record));
    await this.rollIfNeeded(data.length);
    const seg = this.active;
    let offset = seg.size;
    await writeAt(seg.fh, data, offset);
    seg.size += data.length;
    seg.dirty = true;
    for (const { key, record } of records) {
      const old = this.index.get(key);
      const length = record.length - PUT_VALUE_OFFSET;
      if (old && old.seg === head) {
        this.index.update(key, { ...old, seg, offset: offset + PUT_VALUE_OFFSET });
        head.live--;
        head.liveBytes -= length;
        seg.live++;
        seg.liveBytes += length;
      }
      offset += record.length;
    }
    this.logger.info({ segment: basename(head.path), moved: records.length }, 'spool: compacted a segment held by a few unacknowledged events');
  }

  private async syncNow(): Promise<void> {
    if (this.syncing) return this.syncing;
    const dirty = this.segments.filter((s) => s.dirty);
    if (!dirty.length) return;
    this.syncing = (async () => {
      for (const s of dirty) {
        s.dirty = false;
        await s.fh.datasync();
      }
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const where = new Map<number, { seg: Segment; offset: number; length: number }>();
    for (const name of names) {
      const path = join(this.dir, name);
      const buf = await readFile(path);
      const parsed = parseSegment(buf);
      const fh = await open(path, 'r+');
      // A segment written by an SDK that followed the umask may be open to others: it is ours, so tighten it.
      await fh.chmod(this.fileMode).catch(() => undefined);
      const seg: Segment = { no: Number(SEGMENT_NAME.exec(name)![1]), path, fh, size: parsed.goodLength, live: 0, liveBytes: 0, dirty: false, sealed: true };
      this.segments.push(seg);
      if (parsed.damage) {
        const discarded = buf.length - parsed.goodLength;
        // A file that never got its header is a segment created just before a crash: nothing to report.
        if (!(buf.length < MAGIC.length && parsed.records.length === 0)) {
          this.logger.warn(
            { segment: path, offset: parsed.goodLength, discardedBytes: discarded, keptRecords: parsed.records.length },
            `spool: segment ${name} is damaged (${parsed.damage}); kept the ${parsed.records.length} records before offset ${parsed.goodLength} and discarded the ${discarded} bytes after it`,
          );
        }
        await fh.truncate(parsed.goodLength);
      }
      for (const r of parsed.records) {
        if (r.type === 'put') {
          where.set(r.key, { seg, offset: r.valueOffset, length: r.valueLength });
          this.seq = Math.max(this.seq, r.key);
        } else {
          // Keys in tombstones count too: reusing one would let an old tombstone cancel a new entry.
          for (const k of r.keys) {
            where.delete(k);
            this.seq = Math.max(this.seq, k);
          }
        }
      }
    }
    const keys = [...where.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const loc = where.get(key)!;
      this.index.append(key, { length: loc.length, seg: loc.seg, offset: loc.offset });
      loc.seg.live++;
      loc.seg.liveBytes += loc.length;
      this.bytes += loc.length;
    }
    if (names.length) {
      this.logger.info({ dir: this.dir, entries: keys.length, bytes: this.bytes, segments: names.length }, `spool: recovered ${keys.length} unacknowledged events from ${names.length} segment files`);
    }
  }

  private async lock(): Promise<void> {
    try {
      const created = await mkdirPrivate(this.dir, this.dirMode);
      // A folder given by the operator keeps its mode (it may be shared); say so when others can write in it.
      if (!created.length && (await writableByOthers(this.dir))) {
        this.logger.warn({ dir: this.dir }, `spool: spool.dir "${this.dir}" is writable by other users, who could add events this station would publish: chmod ${octal(this.dirMode)} it`);
      }
    } catch (err) {
      throw new MmaerecError('E_SPOOL', `cannot create spool.dir "${this.dir}" (${(err as NodeJS.ErrnoException).code}): point spool.dir at a writable directory`, { cause: err });
    }
    if (openDirs.has(this.dir)) {
      throw new MmaerecError('E_SPOOL', `spool.dir "${this.dir}" is already open in this process: give each sink its own spool.dir`);
    }
    // Claimed before the awaits below: two opens of one dir started together must not both get it.
    openDirs.add(this.dir);
    try {
      const lockPath = join(this.dir, 'LOCK');
      const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new MmaerecError('E_SPOOL', `spool.dir "${this.dir}" is in use by process ${holder}: give each sink its own spool.dir (or stop that process)`);
      }
      try {
        // A lock left by a process that died (SIGKILL, power cut) is taken over: its spool is ours to replay.
        await writeFilePrivate(lockPath, `${process.pid}\n`, this.fileMode);
      } catch (err) {
        throw new MmaerecError('E_SPOOL', `cannot write in spool.dir "${this.dir}" (${(err as NodeJS.ErrnoException).code}): point spool.dir at a writable directory`, { cause: err });
      }
    } catch (err) {
      openDirs.delete(this.dir);
      throw err;
    }
  }

  private async releaseFiles(): Promise<void> {
    for (const s of this.segments) await s.fh.close().catch(() => undefined);
    this.segments = [];
    if (openDirs.delete(this.dir)) await unlink(join(this.dir, 'LOCK')).catch(() => undefined);
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function writeAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('short read');
    done += bytesRead;
  }
  return buf;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.datasync();
  } catch {
    // Some file systems refuse fsync on a directory; the data files are still synced.
  } finally {
    await fh.close();
  }
}
