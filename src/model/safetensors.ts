import { open, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { MmaerecError } from '../errors.js';
import { jsonParseReason, printable } from '../util/printable.js';

/**
 * safetensors (huggingface/safetensors format): 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }`, then the raw
 * little-endian data; offsets are relative to the data section. Validation is strict and happens before
 * any allocation sized by the file's claims.
 */
export const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 } as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** The upper bound huggingface's reference reader also enforces (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes (little-endian), a view into the file buffer. */
  bytes: Uint8Array;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

if (endianness() !== 'LE') {
  // Float32Array views below assume a little-endian host; every Node target of this SDK is little-endian.
  throw new MmaerecError('E_UNSUPPORTED', 'safetensors: this host is big-endian: run on a little-endian machine (x86_64, arm64)');
}

const bad = (source: string, problem: string, fix = 're-export the file with a safetensors writer'): MmaerecError =>
  new MmaerecError('E_MODEL', `${source}: not a valid safetensors file: ${problem}: ${fix}`);

/** A value from the file's header for a message: JSON-quoted, escaped and cut short (never the raw bytes). */
const shown = (value: unknown, max = 80): string => printable(JSON.stringify(value) ?? String(value), max);

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and validates the JSON header against a data section of `dataBytes` bytes. */
function parseHeader(json: string, dataBytes: number, source: string): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (err) {
    throw bad(source, `header is not JSON (${jsonParseReason(err)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad(source, 'header is not a JSON object');
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
        throw bad(source, '__metadata__ must map strings to strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const tensor = `tensor ${shown(name)}`;
    if (!e || typeof e !== 'object') throw bad(source, `${tensor} has no {dtype, shape, data_offsets} entry`);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) throw bad(source, `${tensor} has unknown dtype ${shown(e.dtype, 40)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(source, `${tensor} has an invalid shape ${shown(e.shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw bad(source, `${tensor} has invalid data_offsets ${shown(offs)}`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape as number[];
    const [begin, end] = offs as [number, number];
    const expected = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw bad(source, `${tensor} (${dtype} ${shown(shape)}) needs ${expected} bytes but its data_offsets span ${end - begin}`);
    }
    if (end > dataBytes) throw bad(source, `${tensor} ends at byte ${end} past the data section (${dataBytes} bytes; file truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) throw bad(source, `tensor ${shown(e.name)} overlaps the previous tensor's bytes (${e.begin} < ${cursor})`);
    if (e.begin > cursor) throw bad(source, `a gap of ${e.begin - cursor} bytes precedes tensor ${shown(e.name)}`);
    cursor = e.end;
  }
  if (cursor !== dataBytes) throw bad(source, `${dataBytes - cursor} trailing bytes after the last tensor`);
  return { entries, metadata };
}

function readHeaderLength(prefix: Uint8Array, fileBytes: number, source: string): number {
  if (fileBytes < 8) throw bad(source, `file has ${fileBytes} bytes, fewer than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(source, `header length ${n} is absurd (limit ${MAX_HEADER_BYTES} bytes)`);
  if (Number(n) + 8 > fileBytes) throw bad(source, `header length ${n} exceeds the file size ${fileBytes} (file truncated?)`);
  return Number(n);
}

/** Parses a whole safetensors buffer (tensor bytes are views into `buf`). */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors buffer'): SafetensorsFile {
  const n = readHeaderLength(buf.subarray(0, 8), buf.byteLength, source);
  const json = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(8, 8 + n));
  const data = buf.subarray(8 + n);
  const { entries, metadata } = parseHeader(json, data.byteLength, source);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  return { tensors, metadata };
}

/** Reads and validates a safetensors file; the header is checked against the file size before the data is read. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new MmaerecError('E_IO', `${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path`);
  }
  try {
    const { size } = await fh.stat();
    const prefix = new Uint8Array(8);
    await fh.read(prefix, 0, Math.min(8, size), 0);
    const n = readHeaderLength(prefix, size, path);
    const headerBytes = new Uint8Array(n);
    await fh.read(headerBytes, 0, n, 8);
    parseHeader(new TextDecoder().decode(headerBytes), size - 8 - n, path); // validates before the big read
    const buf = new Uint8Array(size);
    await fh.read(buf, 0, size, 0);
    return parseSafetensors(buf, path);
  } finally {
    await fh.close();
  }
}

/** Converts a floating-point tensor (F32, F16, BF16, F64) to float32; other dtypes are refused. */
export function toFloat32(t: RawTensor, name: string): Float32Array {
  const count = t.shape.reduce((a, d) => a * d, 1);
  const aligned = t.bytes.slice(); // own, aligned copy
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned.buffer, 0, count));
    case 'BF16': {
      const src = new Uint16Array(aligned.buffer, 0, count);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const src = new Uint16Array(aligned.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(src[i]!);
      return out;
    }
    default:
      throw new MmaerecError('E_MODEL', `tensor ${shown(name)} has dtype ${t.dtype}, expected a float type: export the weights as float32`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Serialises float32 tensors (names sorted, header padded with spaces to 8 bytes as the reference writer does). */
export function serializeSafetensors(tensors: Map<string, FloatTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) throw new MmaerecError('E_MODEL', `tensor "${name}": shape ${JSON.stringify(t.shape)} does not fit ${t.data.length} values: fix the producer`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  const headerLen = Buffer.byteLength(json);
  json += ' '.repeat((8 - (headerLen % 8)) % 8);
  const jsonBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

export async function writeSafetensors(path: string, tensors: Map<string, FloatTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFile(path, serializeSafetensors(tensors, metadata));
}
