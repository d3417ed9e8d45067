import { seededRandom } from '../../src/util/random.js';

/**
 * Seeded mutators for the fuzz suite: the same seed gives the same inputs on every machine, so a failure
 * seen in CI reproduces with `FUZZ_SEED=<seed> npx vitest run test/fuzz`.
 */
export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000, 16384, 65535, 100_000];

/** 1–4 byte-level edits: bit flips, interesting bytes and words, truncation, inserted, deleted or repeated blocks. */
export function mutateBytes(rng: Rng, input: Uint8Array, from = 0): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const ops = 1 + rng.int(4);
  for (let k = 0; k < ops; k++) {
    const at = from + rng.int(Math.max(1, b.length - from));
    switch (rng.int(8)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + rng.int(8); i < n && b.length > from; i++) b[from + rng.int(b.length - from)]! ^= 1 << rng.int(8);
        break;
      case 1:
        if (at < b.length) b[at] = rng.pick(INTERESTING_BYTES);
        break;
      case 2: // a big-endian 32-bit word (PNG lengths and sizes, JPEG segment lengths)
        if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, rng.pick(INTERESTING_U32), rng.chance(0.3));
        break;
      case 3: // truncate
        b = b.slice(0, at);
        break;
      case 4: { // insert random bytes
        const block = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
        b = concat(b.subarray(0, at), block, b.subarray(at));
        break;
      }
      case 5: // delete a block
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(256))));
        break;
      case 6: { // repeat a block
        const len = 1 + rng.int(512);
        b = concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
        break;
      }
      default: // overwrite a run with random bytes
        for (let i = at, end = Math.min(b.length, at + 1 + rng.int(32)); i < end; i++) b[i] = rng.int(256);
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** PNG chunk CRC (zlib crc32). */
export function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const x of bytes) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** Recomputes every chunk CRC that the (possibly mutated) structure still lets us find, so decoders look deeper. */
export function fixPngCrcs(b: Uint8Array): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 8; o + 12 <= b.length; ) {
    const len = v.getUint32(o);
    if (o + 12 + len > b.length) break;
    v.setUint32(o + 8 + len, crc32(b.subarray(o + 4, o + 8 + len)));
    o += 12 + len;
  }
  return b;
}

/** A PNG mutation: the header's size fields (with a valid CRC), or bytes after the signature with CRCs fixed or not. */
export function mutatePng(rng: Rng, png: Uint8Array): Uint8Array {
  if (rng.chance(0.2)) {
    const b = Uint8Array.from(png);
    const v = new DataView(b.buffer);
    const sizes = [0, 1, 16383, 16384, 65535, 100_000, 0x7fffffff, 0xffffffff];
    v.setUint32(16, rng.chance(0.5) ? rng.pick(sizes) : v.getUint32(16));
    v.setUint32(20, rng.chance(0.5) ? rng.pick(sizes) : v.getUint32(20));
    if (rng.chance(0.3)) b[24 + rng.int(5)] = rng.pick(INTERESTING_BYTES); // bit depth, colour type, compression, filter, interlace
    return fixPngCrcs(b);
  }
  const b = mutateBytes(rng, png, 8);
  return rng.chance(0.7) ? fixPngCrcs(b) : b;
}

/** A JPEG mutation: bytes after SOI, or the frame header's size fields. */
export function mutateJpeg(rng: Rng, jpeg: Uint8Array): Uint8Array {
  if (rng.chance(0.2)) {
    const b = Uint8Array.from(jpeg);
    for (let o = 2; o + 9 < b.length; o++) {
      if (b[o] === 0xff && (b[o + 1] === 0xc0 || b[o + 1] === 0xc2)) {
        const v = new DataView(b.buffer);
        v.setUint16(o + 5, rng.pick([0, 1, 16383, 16384, 65535]));
        v.setUint16(o + 7, rng.pick([0, 1, 16383, 16384, 65535]));
        return b;
      }
    }
  }
  return mutateBytes(rng, jpeg, 2);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const HOSTILE_VALUES: Json[] = [
  null, true, false, 0, -1, 1, 2, 0.5, -0.5, 1e-300, 1e9, 1e308, -1e308, 2 ** 53 + 1, 100_000, 16384, 4096, 1023, 1024,
  '', 'x', '../../../etc/passwd', '/etc/passwd/log.json', 'a'.repeat(5000), 'line\nbreak\u0000\u001b[31m', '+/#', '0x10',
  [], [1, 2, 3], {}, { kind: 'topk', fraction: 2 },
];

/** Paths to every node of a JSON value (objects and arrays included). */
function paths(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

/** 1–3 structural edits of a JSON value: a node replaced by a hostile value, deleted, retyped, or a key added. */
export function mutateJson<T>(rng: Rng, input: T): T {
  const root = structuredClone(input) as Json;
  let value = root;
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    const all = paths(value).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const path = rng.pick(all);
    let parent = value as Record<string | number, Json>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
    const key = path.at(-1)!;
    const old = parent[key]!;
    switch (rng.int(5)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 1: // numbers scaled or negated, strings doubled: near-valid values
        parent[key] = typeof old === 'number' ? rng.pick([old * 1e6, -old, old + 1, old / 3, Math.round(old) * 2]) : typeof old === 'string' ? old + old : rng.pick(HOSTILE_VALUES);
        break;
      case 2:
        parent[key] = typeof old === 'number' ? String(old) : typeof old === 'string' ? old.length : rng.pick(HOSTILE_VALUES);
        break;
      case 3:
        if (!Array.isArray(parent)) parent[`unknown${rng.int(10)}`] = rng.pick(HOSTILE_VALUES);
        else parent[key] = rng.pick(HOSTILE_VALUES);
        break;
      default:
        parent[key] = rng.pick(HOSTILE_VALUES);
    }
  }
  return value as T;
}

/** Safetensors: the 8-byte little-endian header length, then JSON, then data. */
export function splitSafetensors(buf: Uint8Array): { header: Record<string, Json>; data: Uint8Array } {
  const len = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + len))), data: buf.subarray(8 + len) };
}

export function joinSafetensors(header: unknown, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A safetensors mutation: its header's entries (offsets, dtypes, shapes), its length field, or raw bytes. */
export function mutateSafetensors(rng: Rng, buf: Uint8Array): Uint8Array {
  const { header, data } = splitSafetensors(buf);
  switch (rng.int(4)) {
    case 0: { // one tensor's data_offsets, dtype or shape
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      const t = header[rng.pick(names)] as { dtype: Json; shape: Json; data_offsets: Json };
      const field = rng.pick(['data_offsets', 'dtype', 'shape'] as const);
      t[field] = rng.pick<Json>(
        field === 'data_offsets'
          ? [[0, 0], [0, 2 ** 40], [-4, 4], [4, 0], [0, data.length + 4], [1, 5], [0.5, 4], null, 'x', [0]]
          : field === 'dtype'
            ? ['F16', 'BF16', 'I64', 'F64', 'U8', 'BOOL', 'Q4', '', 7]
            : [[], [0], [2 ** 31, 2 ** 31], [-1], [1.5], [1, 2, 3, 4, 5, 6, 7, 8, 9], 'x', null],
      );
      return joinSafetensors(header, data);
    }
    case 1:
      return joinSafetensors(mutateJson(rng, header), data);
    case 2: // header length off by a little or a lot
      return joinSafetensors(header, data, rng.pick([-1, 1, -100, 7, 2 ** 30, -(2 ** 20)]));
    default:
      return mutateBytes(rng, buf);
  }
}

/** A text mutation for YAML: byte edits of the text itself (unbalanced quotes, tabs, stray indentation). */
export function mutateText(rng: Rng, text: string): string {
  const lines = text.split('\n');
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    const i = rng.int(lines.length);
    switch (rng.int(5)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines[i] = '\t' + lines[i];
        break;
      case 2:
        lines.splice(i, 0, rng.pick(['  bad: [unclosed', 'x: *alias', '<<: *anchor', '? complex', '"', 'a: &a [*a]', '- - -', 'key: !!binary zz']));
        break;
      case 3:
        lines[i] = lines[i]!.slice(0, rng.int(lines[i]!.length + 1));
        break;
      default:
        lines[i] = lines[i] + rng.pick([': : :', ' # comment', '\u0000', ' {', '}']);
    }
  }
  return lines.join('\n');
}
