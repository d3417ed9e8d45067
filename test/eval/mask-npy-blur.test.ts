import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gaussianBlur, gaussianKernel } from '../../src/eval/blur.js';
import { readMask, resizeMask } from '../../src/eval/mask.js';
import { encodeNpyFloat32 } from '../../src/score/npy.js';
import { decodeNpy } from './npy-reader.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-mask-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('mask resizing', () => {
  // 6×2 mask, 1-px vertical line at x=1 and a 2-px block at x=4..5
  const mask = { width: 6, height: 2, data: new Uint8Array([0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1]) };
  test('nearest (half-pixel centres) keeps a thin line when downscaling 6 → 3', () => {
    // output x samples source floor((x+0.5)·2) = 1, 3, 5
    expect(Array.from(resizeMask(mask, 3, 1, 'nearest'))).toEqual([1, 0, 1]);
  });
  test('area + threshold 0.5: covered fraction per cell (½ counts)', () => {
    // cells cover source x 0-1, 2-3, 4-5: fractions ½, 0, 1
    expect(Array.from(resizeMask(mask, 3, 1, 'area'))).toEqual([1, 0, 1]);
    const thin = { width: 3, height: 1, data: new Uint8Array([0, 1, 0]) };
    // 3 → 2: cells [0,1.5) covers ⅓ of a 1.5-wide cell; [1.5,3) the same → both below ½
    expect(Array.from(resizeMask(thin, 2, 1, 'area'))).toEqual([0, 0]);
  });
  test('upscaling repeats pixels; same size copies', () => {
    expect(Array.from(resizeMask({ width: 2, height: 1, data: new Uint8Array([1, 0]) }, 4, 1, 'nearest'))).toEqual([1, 1, 0, 0]);
    expect(Array.from(resizeMask({ width: 2, height: 1, data: new Uint8Array([1, 0]) }, 4, 1, 'area'))).toEqual([1, 1, 0, 0]);
    expect(Array.from(resizeMask(mask, 6, 2))).toEqual(Array.from(mask.data));
  });
  test('readMask binarises at 128 and checks the image size', async () => {
    const path = join(dir, 'm.png');
    await writeFile(path, await sharp(new Uint8Array([0, 127, 128, 255]), { raw: { width: 4, height: 1, channels: 1 } }).png().toBuffer());
    expect(Array.from((await readMask(path)).data)).toEqual([0, 0, 1, 1]);
    await expect(readMask(path, { width: 5, height: 1 })).rejects.toThrow(/is 4×1 but its image is 5×1: a mask must have its image's size/);
    await writeFile(join(dir, 'bad.png'), 'not a png');
    await expect(readMask(join(dir, 'bad.png'))).rejects.toThrow(/cannot be decoded .*: replace it with a PNG/);
  });
});

describe('npy maps (written with src/score/npy.ts)', () => {
  test('round trip; header is numpy format 1.0, 64-byte aligned', () => {
    const data = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const bytes = encodeNpyFloat32(data, [2, 3]);
    const text = Buffer.from(bytes.subarray(0, 128)).toString('latin1');
    expect(text).toMatch(/^\x93NUMPY\x01\x00.{2}\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n/s);
    expect((bytes.length - 24) % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect([back.height, back.width]).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(() => decodeNpy(new Uint8Array([1, 2, 3]))).toThrow(/no \\x93NUMPY magic/);
  });
});

describe('Gaussian blur (reference reconstruction)', () => {
  test('kernel: radius 4σ, sums to 1, symmetric', () => {
    const k = gaussianKernel(2);
    expect(k.length).toBe(17);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[0]).toBeCloseTo(k[16]!, 15);
    expect(k[8]! / k[9]!).toBeCloseTo(Math.exp(1 / 8), 12);
  });
  test('an impulse spreads to the separable kernel; constants stay constant; borders reflect-101', () => {
    const w = 21, h = 21;
    const img = new Float32Array(w * h);
    img[10 * w + 10] = 1;
    const out = gaussianBlur(img, w, h, 1, 2);
    const k = gaussianKernel(2);
    expect(out[10 * w + 10]).toBeCloseTo(k[8]! * k[8]!, 7);
    expect(out[10 * w + 13]).toBeCloseTo(k[8]! * k[11]!, 7);
    const flat = gaussianBlur(new Float32Array(5 * 4 * 3).fill(0.25), 5, 4, 3, 2);
    for (const v of flat) expect(v).toBeCloseTo(0.25, 6);
    // reflect-101 on a 1-D ramp keeps the edge pixel's value where the ramp is symmetric about it
    const ramp = gaussianBlur(Float32Array.from([0, 1, 0]), 3, 1, 1, 0.5);
    expect(ramp[0]).toBeCloseTo(ramp[2]!, 12);
    expect(() => gaussianBlur(new Float32Array(3), 2, 2, 1, 2)).toThrow(/2×2×1 = 4 values/);
  });
});
