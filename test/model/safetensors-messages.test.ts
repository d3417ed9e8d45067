import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readSafetensors } from '../../src/model/safetensors.js';

// Error messages about a hostile or broken safetensors file never carry the file's bytes: no control
// characters, no line breaks, no bidi overrides, and a bounded length (issue 15, item 7).

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-st-msg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file whose 8-byte length prefix announces exactly `header` (raw bytes, not necessarily JSON). */
function withHeader(header: Uint8Array | string): Uint8Array {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const out = new Uint8Array(8 + h.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
}

function syncMessageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('safetensors error messages', () => {
  it('a header that is not JSON: one line naming the reason, none of the raw bytes', async () => {
    const raw = new Uint8Array([0x00, 0x01, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a, 0x0d, 0x7f, 0x68, 0x69]); // NUL SOH ESC[31m LF CR DEL "hi"
    const path = join(dir, 'binary-header.safetensors');
    await writeFile(path, withHeader(raw));
    const message = await messageOf(readSafetensors(path));
    expect(message).toBe(`${path}: not a valid safetensors file: header is not JSON (unexpected character "\\u0000"): re-export the file with a safetensors writer`);
    expect(message).not.toMatch(UNSAFE);
  });

  it('JSON that stops early or has trailing text: the reason and where, not the text', () => {
    expect(syncMessageOf(() => parseSafetensors(withHeader('{"a":"x\u0007secret\n"}'), 'x.safetensors'))).toBe(
      'x.safetensors: not a valid safetensors file: header is not JSON (bad control character in string literal at character 7): re-export the file with a safetensors writer',
    );
    expect(syncMessageOf(() => parseSafetensors(withHeader('{}\u202egnp.exe'), 'x.safetensors'))).toBe(
      'x.safetensors: not a valid safetensors file: header is not JSON (more data after the JSON value at character 2): re-export the file with a safetensors writer',
    );
  });

  it('tensor names, dtypes and shapes from the header are escaped and cut short', () => {
    const evilName = `w\u202e\u2028${'A'.repeat(5000)}`;
    const m1 = syncMessageOf(() => parseSafetensors(withHeader(JSON.stringify({ [evilName]: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } })), 'x.safetensors'));
    expect(m1).not.toMatch(UNSAFE);
    expect(m1).toContain('tensor "w\\u202e\\u2028AAAA');
    expect(m1.length).toBeLessThan(400);
    const hugeShape = Array.from({ length: 10_000 }, () => -1);
    const m2 = syncMessageOf(() => parseSafetensors(withHeader(JSON.stringify({ t: { dtype: 'F32', shape: hugeShape, data_offsets: [0, 0] } })), 'x.safetensors'));
    expect(m2.startsWith('x.safetensors: not a valid safetensors file: tensor "t" has an invalid shape [-1,-1,')).toBe(true);
    expect(m2.endsWith(': re-export the file with a safetensors writer')).toBe(true);
    expect(m2.length).toBeLessThan(400);
    const m3 = syncMessageOf(() => parseSafetensors(withHeader(JSON.stringify({ t: { dtype: 'F32\u0000\n\u001b[2J', shape: [1], data_offsets: [0, 4] } })), 'x.safetensors'));
    expect(m3).toBe('x.safetensors: not a valid safetensors file: tensor "t" has unknown dtype "F32\\u0000\\n\\u001b[2J": re-export the file with a safetensors writer');
  });
});
