import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs';
import { registerWasmConvGradients } from '../../src/train/kernels/wasm-conv-grad.js';

/** Deterministic pseudo-random values in [-1, 1) so both back ends see the same tensors. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Case {
  x: [number, number, number, number];
  k: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

async function grads(backend: string, c: Case): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await tf.setBackend(backend);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(values(size(c.x), 1), c.x);
  const w = tf.tensor4d(values(size(c.k), 2), c.k);
  const probe = tf.conv2d(x, w, c.stride, c.pad);
  const weights = tf.tensor(values(size(probe.shape), 3), probe.shape);
  // A weighted sum makes every output pixel's gradient distinct, so misplaced terms show.
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), weights)));
  const [dx, dw] = g([x, w]);
  const out = { dx: (await dx!.data()) as Float32Array, dw: (await dw!.data()) as Float32Array };
  tf.dispose([x, w, probe, weights, dx!, dw!]);
  return out;
}

/**
 * Largest difference relative to the reference's scale (max |ref|, at least 1): float32 sums of hundreds of
 * products differ by summation order alone at ~1e-6 of their magnitude.
 */
function maxScaledDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return m / scale;
}

const cases: Case[] = [
  { x: [2, 8, 8, 3], k: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: [3, 3, 3, 4], stride: 2, pad: 'same' },
  { x: [1, 9, 7, 2], k: [3, 3, 2, 5], stride: 2, pad: 'same' },
  { x: [2, 9, 9, 4], k: [3, 3, 4, 2], stride: 2, pad: 'valid' },
  { x: [1, 10, 10, 2], k: [4, 4, 2, 3], stride: 2, pad: 'valid' },
  { x: [3, 6, 6, 5], k: [1, 1, 5, 6], stride: 1, pad: 'valid' },
  { x: [1, 7, 8, 3], k: [3, 3, 3, 3], stride: 1, pad: 'valid' },
  { x: [2, 16, 16, 8], k: [3, 3, 8, 8], stride: 1, pad: 'same' },
  // explicit padding as the model's executor passes it: ResNet stem (7×7, stride 2, pad 3) and a 3×3 stride-2 conv
  { x: [2, 20, 20, 3], k: [7, 7, 3, 4], stride: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
  { x: [1, 9, 9, 3], k: [3, 3, 3, 4], stride: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
];

describe('wasm conv gradient kernels', () => {
  beforeAll(async () => {
    registerWasmConvGradients();
    await tf.setBackend('wasm');
  });

  for (const c of cases) {
    it(`match the cpu back end: x ${c.x.join('×')}, k ${c.k.join('×')}, stride ${c.stride}, ${JSON.stringify(c.pad)}`, async () => {
      const ref = await grads('cpu', c);
      const got = await grads('wasm', c);
      expect(maxScaledDiff(got.dw, ref.dw)).toBeLessThanOrEqual(1e-5);
      expect(maxScaledDiff(got.dx, ref.dx)).toBeLessThanOrEqual(1e-5);
      // the gradients are not trivially zero
      expect(Math.max(...ref.dw.map(Math.abs))).toBeGreaterThan(0.1);
    });
  }

  it('leaves no intermediate tensors behind', async () => {
    await tf.setBackend('wasm');
    const c = cases[2]!;
    await grads('wasm', c);
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    await grads('wasm', c);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytesBefore);
  });
});
