import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { SEGMENT_NAME, type Segment } from './disk-segments.js';
import { MAGIC, parseSegment } from './segment.js';

/** A live entry found on disk. */
export interface RecoveredEntry {
  key: number;
  seg: Segment;
  offset: number;
  length: number;
}

/**
 * Reads every segment file of a spool folder at open: the entries still live (puts without a later tombstone),
 * in key order, and the highest key seen. A damaged tail (a crash mid-write) is truncated to its last whole
 * record, with a warning naming what was kept and discarded. Every recovered segment is sealed: new records go
 * to a fresh one.
 */
export async function recoverSegments(dir: string, fileMode: number, logger: Logger): Promise<{ segments: Segment[]; entries: RecoveredEntry[]; seq: number }> {
  const names = (await readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
  const segments: Segment[] = [];
  const where = new Map<number, { seg: Segment; offset: number; length: number }>();
  let seq = 0;
  for (const name of names) {
    const path = join(dir, name);
    const buf = await readFile(path);
    const parsed = parseSegment(buf);
    const fh = await open(path, 'r+');
    // A segment written by an SDK that followed the umask may be open to others: it is ours, so tighten it.
    await fh.chmod(fileMode).catch(() => undefined);
    const seg: Segment = { no: Number(SEGMENT_NAME.exec(name)![1]), path, fh, size: parsed.goodLength, live: 0, liveBytes: 0, dirty: false, sealed: true };
    segments.push(seg);
    if (parsed.damage) {
      const discarded = buf.length - parsed.goodLength;
      // A file that never got its header is a segment created just before a crash: nothing to report.
      if (!(buf.length < MAGIC.length && parsed.records.length === 0)) {
        logger.warn(
          { segment: path, offset: parsed.goodLength, discardedBytes: discarded, keptRecords: parsed.records.length },
          `spool: segment ${name} is damaged (${parsed.damage}); kept the ${parsed.records.length} records before offset ${parsed.goodLength} and discarded the ${discarded} bytes after it`,
        );
      }
      await fh.truncate(parsed.goodLength);
    }
    for (const r of parsed.records) {
      if (r.type === 'put') {
        where.set(r.key, { seg, offset: r.valueOffset, length: r.valueLength });
        seq = Math.max(seq, r.key);
      } else {
        // Keys in tombstones count too: reusing one would let an old tombstone cancel a new entry.
        for (const k of r.keys) {
          where.delete(k);
          seq = Math.max(seq, k);
        }
      }
    }
  }
  const entries = [...where.entries()].sort(([a], [b]) => a - b).map(([key, loc]) => ({ key, ...loc }));
  return { segments, entries, seq };
}
