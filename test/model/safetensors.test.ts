import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readSafetensors, serializeSafetensors, toFloat32 } from '../../src/model/safetensors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-st-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file from a raw header object and a data section, as a hostile writer could make it. */
function craft(header: unknown, data: Uint8Array, headerLength?: bigint): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 tensors with metadata, header 8-byte aligned', async () => {
    const tensors = new Map([
      ['b.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['a.bias', { shape: [2], data: Float32Array.from([-1.5, 7]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const bytes = serializeSafetensors(tensors, { arch: 'resnet18' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const path = join(dir, 'ok.safetensors');
    await writeFile(path, bytes);
    const file = await readSafetensors(path);
    expect(file.metadata).toEqual({ arch: 'resnet18' });
    expect([...file.tensors.keys()].sort()).toEqual(['a.bias', 'b.weight', 'empty']);
    expect(Array.from(toFloat32(file.tensors.get('b.weight')!, 'b.weight'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(file.tensors.get('a.bias')!.shape).toEqual([2]);
  });

  it('converts F16, BF16 and F64 to float32 and refuses integer tensors as weights', () => {
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x3555]); // 1, -2, ≈0.33325
    const bf16 = Uint16Array.from([0x3f80, 0x4049]); // 1, ≈3.140625
    const f64 = Float64Array.from([0.25, -8]);
    const i64 = BigInt64Array.from([5n]);
    const data = Buffer.concat([Buffer.from(f16.buffer), Buffer.from(bf16.buffer), Buffer.from(f64.buffer), Buffer.from(i64.buffer)]);
    const file = parseSafetensors(
      craft(
        {
          h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
          d: { dtype: 'F64', shape: [2], data_offsets: [10, 26] },
          n: { dtype: 'I64', shape: [], data_offsets: [26, 34] },
        },
        data,
      ),
    );
    expect(Array.from(toFloat32(file.tensors.get('h')!, 'h'))).toEqual([1, -2, 0.333251953125]);
    expect(Array.from(toFloat32(file.tensors.get('b')!, 'b'))).toEqual([1, 3.140625]);
    expect(Array.from(toFloat32(file.tensors.get('d')!, 'd'))).toEqual([0.25, -8]);
    expect(() => toFloat32(file.tensors.get('n')!, 'n')).toThrow(/tensor "n" has dtype I64, expected a float type/);
  });

  const four = new Uint8Array(16);
  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/],
    ['an absurd header length', craft({}, new Uint8Array(0), 2n ** 62n), /header length 4611686018427387904 is absurd/],
    ['a header length past the end (truncated)', craft({}, new Uint8Array(0), 1000n), /header length 1000 exceeds the file size/],
    ['a non-JSON header', (() => { const b = craft({ x: 1 }, new Uint8Array(0)); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /header is not JSON/],
    ['a JSON array header', craft([1, 2], new Uint8Array(0)), /header is not a JSON object/],
    ['an unknown dtype', craft({ t: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown dtype "F8"/],
    ['a negative dimension', craft({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /invalid shape \[-1\]/],
    ['reversed offsets', craft({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4)), /invalid data_offsets \[4,0\]/],
    ['a header lying about sizes', craft({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 16 bytes but its data_offsets span 8/],
    ['a tensor past the end of the data (truncated)', craft({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(12)), /ends at byte 16 past the data section \(12 bytes/],
    [
      'overlapping ranges',
      craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, four),
      /tensor "b" overlaps the previous tensor's bytes/,
    ],
    ['a gap between tensors', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, four), /a gap of 8 bytes precedes tensor "a"/],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, four), /8 trailing bytes after the last tensor/],
    ['bad metadata', craft({ __metadata__: { k: 1 } }, new Uint8Array(0)), /__metadata__ must map strings to strings/],
  ];
  it.each(cases)('rejects %s with a one-line error naming the file', async (label, bytes, message) => {
    const path = join(dir, `${label.replace(/\W+/g, '-')}.safetensors`);
    await writeFile(path, bytes);
    const err = await readSafetensors(path).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(err, label).toBeDefined();
    expect(err!.message).toMatch(message);
    expect(err!.message.startsWith(`${path}: not a valid safetensors file`)).toBe(true);
    expect(err!.message).not.toContain('\n');
    expect(err!.code).toBe('E_MODEL');
    expect(() => parseSafetensors(bytes)).toThrow(message);
  });

  it('reports a missing file as an I/O error', async () => {
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/cannot open \(ENOENT\): check the path/);
  });
});
