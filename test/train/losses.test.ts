import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { addressingEntropy, gaussianWindow, reconstructionLoss, ssim } from '../../src/train/losses.js';
import { learningRate } from '../../src/train/schedule.js';
import { loadGradients } from '../../src/train/backend.js';
import { formatProgress } from '../../src/train/progress.js';

/** Direct SSIM (pytorch-ssim): zero-padded Gaussian sums per pixel and channel. */
function referenceSsim(x: Float32Array, y: Float32Array, h: number, w: number, c: number): number {
  const g = gaussianWindow(11, 1.5);
  const at = (a: Float32Array, i: number, j: number, k: number): number => (i < 0 || j < 0 || i >= h || j >= w ? 0 : a[(i * w + j) * c + k]!);
  let total = 0;
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (let u = -5; u <= 5; u++) {
          for (let v = -5; v <= 5; v++) {
            const wt = g[u + 5]! * g[v + 5]!;
            const a = at(x, i + u, j + v, k);
            const b = at(y, i + u, j + v, k);
            mx += wt * a; my += wt * b; xx += wt * a * a; yy += wt * b * b; xy += wt * a * b;
          }
        }
        const c1 = 1e-4, c2 = 9e-4;
        total += ((2 * mx * my + c1) * (2 * (xy - mx * my) + c2)) / ((mx * mx + my * my + c1) * (xx - mx * mx + yy - my * my + c2));
      }
    }
  }
  return total / (h * w * c);
}

describe('losses', () => {
  beforeAll(async () => {
    await loadGradients();
    await tf.setBackend('cpu');
  });

  it('SSIM matches a direct per-pixel computation and is 1 for identical images', async () => {
    const h = 12, w = 10, c = 3;
    const x = new Float32Array(h * w * c).map((_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const y = x.map((v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.cos(i * 1.3))));
    const got = ssim(tf.tensor4d(x, [1, h, w, c]), tf.tensor4d(y, [1, h, w, c]));
    expect(await got.data()).toHaveLength(1);
    expect((await got.data())[0]).toBeCloseTo(referenceSsim(x, y, h, w, c), 5);
    expect((await ssim(tf.tensor4d(x, [1, h, w, c]), tf.tensor4d(x, [1, h, w, c])).data())[0]).toBeCloseTo(1, 5);
  });

  it('entropy of uniform addressing is log N; of one-hot addressing 0', async () => {
    const uniform = tf.fill([2, 3, 3, 5], 1 / 5);
    const oneHot = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5).reshape([1, 2, 2, 5]);
    expect((await addressingEntropy([uniform], 3).data())[0]).toBeCloseTo(Math.log(5), 5);
    expect((await addressingEntropy([uniform, uniform], 3).data())[0]).toBeCloseTo(2 * Math.log(5), 5);
    expect((await addressingEntropy([oneHot], 3).data())[0]).toBeCloseTo(0, 5);
  });

  it('combines L2 + θ(1−SSIM) + α·entropy and has gradients', async () => {
    const t = tf.tensor4d(new Float32Array(2 * 8 * 8 * 3).map((_, i) => (i % 7) / 7), [2, 8, 8, 3]);
    const r = tf.variable(tf.add(t, 0.1) as tf.Tensor4D);
    const a = tf.fill([2, 4, 4, 6], 1 / 6);
    const terms = reconstructionLoss(t, r, [a], 3, { ssim: 1, entropy: 0.0002 });
    const [total, l2, s, e] = await Promise.all([terms.total, terms.l2, terms.ssim, terms.entropy].map(async (v) => (await v.data())[0]!));
    expect(l2).toBeCloseTo(0.01, 5);
    expect(total).toBeCloseTo(l2 + s + 0.0002 * e, 5);
    const { grads } = tf.variableGrads(() => reconstructionLoss(t, r, [a], 3, { ssim: 1, entropy: 0.0002 }).total, [r]);
    expect(Math.abs((await tf.sum(grads[r.name]!).data())[0]!)).toBeGreaterThan(0);
  });
});

describe('schedule and progress', () => {
  it('multiplies the rate by 0.2 at 50 % and 80 % of the steps', () => {
    const s = { lr: 1e-3, factor: 0.2, milestones: [0.5, 0.8] };
    expect(learningRate(s, 0, 100)).toBe(1e-3);
    expect(learningRate(s, 49, 100)).toBe(1e-3);
    expect(learningRate(s, 50, 100)).toBeCloseTo(2e-4, 12);
    expect(learningRate(s, 80, 100)).toBeCloseTo(4e-5, 12);
  });

  it('formats step, loss terms, step time and ETA', () => {
    const line = formatProgress({ step: 10, totalSteps: 100, epoch: 1, total: 0.5, l2: 0.1, ssim: 0.4, entropy: 2.5, stepMs: 1500, lr: 1e-4 });
    expect(line).toContain('step 10/100');
    expect(line).toContain('l2 0.1000');
    expect(line).toContain('1.50 s/step');
    expect(line).toContain('ETA 2m15s');
  });
});
