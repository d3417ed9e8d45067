import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { openPrivate } from '../../util/files.js';
import { MAGIC } from './segment.js';
import type { FsyncPolicy } from './store.js';

/** One append-only segment file of the disk spool (format in segment.ts). */
export interface Segment {
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

/** Where a live entry's value lives. */
export interface DiskMeta {
  length: number;
  seg: Segment;
  offset: number;
  /** The value, kept while the cache budget allows so the publisher rarely reads the file back. */
  value?: Buffer;
}

export const SEGMENT_NAME = /^(\d{10})\.seg$/;

/**
 * The spool's segment files, oldest first, and the one being appended to: starting a segment, rolling to a new
 * one past `segmentBytes`, appending, and fsync. Deleting and compacting them is disk-compaction.ts's.
 */
export class SegmentLog {
  segments: Segment[] = [];
  active!: Segment;
  private syncing: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    readonly fsync: FsyncPolicy,
    private readonly segmentBytes: number,
    private readonly fileMode: number,
  ) {}

  /** Appends `data` to the active segment (rolling first when it would pass segmentBytes); returns where. */
  async append(data: Buffer): Promise<{ seg: Segment; start: number }> {
    await this.rollIfNeeded(data.length);
    const seg = this.active;
    const start = seg.size;
    await writeAt(seg.fh, data, start);
    seg.size += data.length;
    seg.dirty = true;
    return { seg, start };
  }

  async rollIfNeeded(incoming: number): Promise<void> {
    const seg = this.active;
    if (!seg.sealed && (seg.size <= MAGIC.length || seg.size + incoming <= this.segmentBytes)) return;
    if (seg.dirty && this.fsync !== 'never') {
      await seg.fh.datasync();
      seg.dirty = false;
    }
    await this.startSegment();
  }

  async startSegment(): Promise<void> {
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

  /** fdatasync of every segment written since the last sync; concurrent calls share one pass. */
  async syncNow(): Promise<void> {
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

  async closeAll(): Promise<void> {
    for (const s of this.segments) await s.fh.close().catch(() => undefined);
    this.segments = [];
  }
}

export async function writeAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
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
