import * as zlib from 'node:zlib';

/**
 * On-disk record format of the spool's append-only segment files (all integers little-endian):
 *
 *   file   = MAGIC (8 bytes "MMSPOOL1") record*
 *   record = u32 bodyLength, u32 crc32(body), body
 *   body   = 0x01 u48 key value-bytes          (PUT: an accepted event)
 *          | 0x02 u32 count (u48 key){count}   (DEL: events the broker acknowledged)
 *
 * The length + CRC pair is what makes a crash mid-write harmless: a torn or partly written last record fails
 * the length or CRC check and recovery stops before it, keeping every complete record in front of it.
 */
export const MAGIC = Buffer.from('MMSPOOL1', 'latin1');
export const RECORD_HEADER = 8;
const PUT = 1;
const DEL = 2;
const KEY_BYTES = 6;
/** Larger than any sane record; a length above it means garbage, not a record. */
const MAX_BODY = 256 * 1024 * 1024;

export const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data) => (zlib as unknown as { crc32(d: Uint8Array): number }).crc32(data)
    : tableCrc32;

export function encodePut(key: number, value: Uint8Array): Buffer {
  const body = Buffer.allocUnsafe(1 + KEY_BYTES + value.byteLength);
  body[0] = PUT;
  body.writeUIntLE(key, 1, KEY_BYTES);
  body.set(value, 1 + KEY_BYTES);
  return frame(body);
}

export function encodeDel(keys: number[]): Buffer {
  const body = Buffer.allocUnsafe(1 + 4 + keys.length * KEY_BYTES);
  body[0] = DEL;
  body.writeUInt32LE(keys.length, 1);
  keys.forEach((k, i) => body.writeUIntLE(k, 5 + i * KEY_BYTES, KEY_BYTES));
  return frame(body);
}

/** Offset of the value inside an encoded PUT record. */
export const PUT_VALUE_OFFSET = RECORD_HEADER + 1 + KEY_BYTES;

export type SegmentRecord =
  | { type: 'put'; key: number; valueOffset: number; valueLength: number }
  | { type: 'del'; keys: number[] };

export interface ParsedSegment {
  records: SegmentRecord[];
  /** Bytes of the file up to the end of the last good record. */
  goodLength: number;
  /** Why parsing stopped before the end of the file, if it did. */
  damage?: string;
}

/** Parses a whole segment file; stops at the first record that is torn or fails its CRC. */
export function parseSegment(buf: Buffer): ParsedSegment {
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { records: [], goodLength: 0, damage: 'missing MMSPOOL1 header' };
  }
  const records: SegmentRecord[] = [];
  let pos = MAGIC.length;
  while (pos < buf.length) {
    if (buf.length - pos < RECORD_HEADER) return { records, goodLength: pos, damage: `torn record header at offset ${pos}` };
    const length = buf.readUInt32LE(pos);
    const crc = buf.readUInt32LE(pos + 4);
    if (length < 1 || length > MAX_BODY) return { records, goodLength: pos, damage: `impossible record length ${length} at offset ${pos}` };
    if (buf.length - pos - RECORD_HEADER < length) return { records, goodLength: pos, damage: `torn record at offset ${pos} (${length} bytes announced, ${buf.length - pos - RECORD_HEADER} present)` };
    const body = buf.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + length);
    if (crc32(body) !== crc) return { records, goodLength: pos, damage: `checksum mismatch at offset ${pos}` };
    if (body[0] === PUT && length >= 1 + KEY_BYTES) {
      records.push({ type: 'put', key: body.readUIntLE(1, KEY_BYTES), valueOffset: pos + PUT_VALUE_OFFSET, valueLength: length - 1 - KEY_BYTES });
    } else if (body[0] === DEL && length >= 5 && length === 5 + body.readUInt32LE(1) * KEY_BYTES) {
      const count = body.readUInt32LE(1);
      const keys = new Array<number>(count);
      for (let i = 0; i < count; i++) keys[i] = body.readUIntLE(5 + i * KEY_BYTES, KEY_BYTES);
      records.push({ type: 'del', keys });
    } else {
      return { records, goodLength: pos, damage: `unknown record type ${body[0]} at offset ${pos}` };
    }
    pos += RECORD_HEADER + length;
  }
  return { records, goodLength: pos };
}

function frame(body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(RECORD_HEADER);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}

let table: Uint32Array | undefined;
/** CRC-32 (IEEE) for Node versions before zlib.crc32 (20.15). */
function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
