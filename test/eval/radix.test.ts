import { expect, test } from 'vitest';
import { bitsOfKey, keyOfBits, radixSort, sortFloat32 } from '../../src/eval/radix.js';

test('order-preserving keys round-trip and sort like the floats; -0 ties with +0', () => {
  const values = Float32Array.from([3.5, -2, 0, -0, 1e-30, -1e-30, 1e30, -1e30, 0.1, -0.1, 7]);
  const sorted = sortFloat32(values);
  expect(Array.from(sorted)).toEqual(Array.from(values).sort((a, b) => a - b).map((v) => v + 0));
  expect(Object.is(sorted[sorted.indexOf(0)], 0)).toBe(true);
  const bits = new Uint32Array(Float32Array.from([-0]).buffer);
  expect(keyOfBits(bits[0]!)).toBe(keyOfBits(0));
  for (const b of [0x3f800000, 0xbf800000, 0x00000001, 0x80000001]) expect(bitsOfKey(keyOfBits(b))).toBe(b);
});

test('radix sort carries the payload and matches a comparison sort on random data', () => {
  let seed = 3;
  const rand = () => (seed = (seed * 16807) % 2147483647);
  const keys = Uint32Array.from({ length: 5000 }, () => (rand() * 2) >>> 0);
  const payload = Uint32Array.from(keys, (_, i) => i);
  const original = keys.slice();
  radixSort(keys, payload);
  expect(Array.from(keys)).toEqual(Array.from(original).sort((a, b) => a - b));
  for (let i = 0; i < keys.length; i++) expect(original[payload[i]!]).toBe(keys[i]);
  // stable: equal keys keep input order
  const k2 = Uint32Array.from([5, 1, 5, 1]);
  const p2 = Uint32Array.from([0, 1, 2, 3]);
  radixSort(k2, p2);
  expect(Array.from(p2)).toEqual([1, 3, 0, 2]);
  expect(() => radixSort(new Uint32Array(2), new Uint32Array(1))).toThrow(/payload of 2/);
});
