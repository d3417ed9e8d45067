import { unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../logger.js';
import { readAt, type DiskMeta, type Segment, type SegmentLog } from './disk-segments.js';
import type { KeyIndex } from './key-index.js';
import { encodePut, PUT_VALUE_OFFSET } from './segment.js';

/**
 * Deletes fully acknowledged segments, oldest first (a tombstone always sits in the same or a later segment than
 * the entry it cancels, so deleting in order never removes a tombstone while its entry's segment is on disk), and
 * compacts a head segment pinned by a few entries (one the broker keeps refusing), so it cannot hold the disk.
 */
export async function reclaimSegments(log: SegmentLog, index: KeyIndex<DiskMeta>, logger: Logger): Promise<void> {
  while (log.segments.length > 1 && log.segments[0] !== log.active && log.segments[0]!.live === 0) {
    const seg = log.segments.shift()!;
    await seg.fh.close();
    await unlink(seg.path).catch(() => undefined);
  }
  const head = log.segments[0]!;
  if (log.segments.length >= 3 && head !== log.active && head.live > 0 && head.liveBytes * 8 < head.size) {
    await compact(head, log, index, logger);
    if (head.live === 0) await reclaimSegments(log, index, logger);
  }
}

/** Rewrites the head segment's live entries, with their keys, at the tail, and points the index at the copies. */
async function compact(head: Segment, log: SegmentLog, index: KeyIndex<DiskMeta>, logger: Logger): Promise<void> {
  const moving = index.entries().filter(([, m]) => m.seg === head);
  const records: { key: number; record: Buffer }[] = [];
  for (const [key, meta] of moving) {
    const value = meta.value ?? (await readAt(head.fh, meta.offset, meta.length));
    records.push({ key, record: encodePut(key, value) });
  }
  const { seg, start } = await log.append(Buffer.concat(records.map((r) => r.record)));
  let offset = start;
  for (const { key, record } of records) {
    const old = index.get(key);
    const length = record.length - PUT_VALUE_OFFSET;
    if (old && old.seg === head) {
      index.update(key, { ...old, seg, offset: offset + PUT_VALUE_OFFSET });
      head.live--;
      head.liveBytes -= length;
      seg.live++;
      seg.liveBytes += length;
    }
    offset += record.length;
  }
  logger.info({ segment: basename(head.path), moved: records.length }, 'spool: compacted a segment held by a few unacknowledged events');
}
