import type * as TF from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/init.js';
import { buildNetwork } from '../../src/model/network.js';
import { loadTfjs, TfjsNetwork, type Tf } from '../../src/model/tfjs-executor.js';

let tf: Tf;
beforeAll(async () => {
  tf = await loadTfjs('cpu');
});

const tiny = (over: Record<string, unknown> = {}) =>
  presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 4, ...over });
const batch = (b: number, s: number, seed: number) => ({
  image: tf.randomUniform([b, s, s, 3], 0, 1, 'float32', seed) as TF.Tensor4D,
  edge: tf.randomUniform([b, s, s, 1], 0, 1, 'float32', seed + 1) as TF.Tensor4D,
});

describe('tfjs executor', () => {
  it('exposes exactly the trainable parameters; a trainable backbone adds its weights, never running stats', () => {
    for (const trainable of [false, true]) {
      const cfg = tiny({ backbone: { widthDivisor: 8, trainable } });
      const graph = buildNetwork(cfg);
      const net = new TfjsNetwork(tf, cfg, initWeights(graph, 1));
      const vars = new Set(net.trainableVariables());
      for (const p of graph.params) {
        expect(vars.has(net.variables.get(p.name)!), p.name).toBe(!p.buffer && (trainable || !p.name.startsWith('backbone.')));
      }
      net.dispose();
    }
  });

  it('returns [B,H,W,3] recon and per-level [B,h,w,N] addressing weights that sum to 1 per pixel', () => {
    const cfg = tiny();
    const net = new TfjsNetwork(tf, cfg, initWeights(buildNetwork(cfg), 2));
    tf.tidy(() => {
      const { image, edge } = batch(2, 32, 1);
      const out = net.forward(image, edge, { training: false });
      expect(out.recon.shape).toEqual([2, 32, 32, 3]);
      expect(out.addressing.map((a) => a.weights.shape)).toEqual([[2, 16, 16, 30], [2, 8, 8, 30], [2, 4, 4, 30], [2, 2, 2, 30]]);
      const sums = tf.sum(out.addressing[0]!.weights, 3).dataSync();
      for (const v of sums) expect(Math.abs(v - 1) < 1e-5 || v === 0).toBe(true);
      // Hard shrinkage: weights below λ = 1/N are exactly zero.
      const w = out.addressing[0]!.weights.dataSync();
      expect(w.some((v) => v === 0)).toBe(true);
    });
    expect(() => net.forward(tf.zeros([1, 16, 16, 3]) as TF.Tensor4D, tf.zeros([1, 16, 16, 1]) as TF.Tensor4D, { training: false })).toThrow(RangeError);
    net.dispose();
  });

  it('memory read-out matches a plain reference of eqs. 1–3 for one pixel', () => {
    const cfg = tiny({ memory: { items: 5, shrink: 1 } });
    const graph = buildNetwork(cfg);
    const weights = initWeights(graph, 3);
    const net = new TfjsNetwork(tf, cfg, weights);
    const m = weights.get('memory.3.weight')!;
    const c = m.shape[1]!;
    const z = Float32Array.from({ length: c }, (_, i) => Math.sin(i + 1));
    // Reference: cosine → softmax → hard shrink (λ = 1/N, ε = 1e-12) → L1 renorm → ŵM.
    const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0));
    const rows = Array.from({ length: 5 }, (_, i) => m.data.subarray(i * c, (i + 1) * c));
    const cos = rows.map((r) => r.reduce((a, x, i) => a + x * z[i]!, 0) / (norm(r) * norm(z)));
    const e = cos.map(Math.exp);
    const w = e.map((x) => x / e.reduce((a, y) => a + y, 0));
    const s = w.map((x) => (Math.max(x - 0.2, 0) * x) / (Math.abs(x - 0.2) + 1e-12));
    const l1 = s.reduce((a, x) => a + x, 0);
    const expected = Array.from({ length: c }, (_, j) => rows.reduce((a, r, i) => a + (s[i]! / l1) * r[j]!, 0));
    const got = tf.tidy(() => {
      const [read] = (net as unknown as { memory(x: TF.Tensor4D, m: TF.Tensor2D, l: number, e: number): TF.Tensor[] }).memory(
        tf.tensor4d(z, [1, 1, 1, c]),
        tf.tensor2d(m.data, [5, c]),
        0.2,
        1e-12,
      );
      return read!.dataSync();
    });
    for (let j = 0; j < c; j++) expect(got[j]).toBeCloseTo(expected[j]!, 5);
    net.dispose();
  });

  it('training mode: head BatchNorm uses batch statistics and updates running stats with PyTorch momentum; frozen backbone BN does not move', () => {
    const cfg = tiny();
    const net = new TfjsNetwork(tf, cfg, initWeights(buildNetwork(cfg), 4));
    const before = net.variables.get('backbone.bn1.running_mean')!.dataSync().slice();
    tf.tidy(() => {
      const { image, edge } = batch(2, 32, 7);
      // Expected: running_mean = 0.9·0 + 0.1·(batch mean of edge.0.conv1's output); running_var likewise, unbiased.
      const conv = tf.conv2d(edge, net.variables.get('edge.0.conv1.weight') as unknown as TF.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      const { mean, variance } = tf.moments(conv, [0, 1, 2]);
      const n = conv.size / conv.shape[3]!;
      net.forward(image, edge, { training: true });
      const rm = net.variables.get('edge.0.bn1.running_mean')!.dataSync();
      const rv = net.variables.get('edge.0.bn1.running_var')!.dataSync();
      const mu = mean.dataSync();
      const va = variance.dataSync();
      for (let i = 0; i < rm.length; i++) {
        expect(rm[i]).toBeCloseTo(0.1 * mu[i]!, 6);
        expect(rv[i]).toBeCloseTo(0.9 + 0.1 * va[i]! * (n / (n - 1)), 6);
      }
    });
    expect(Array.from(net.variables.get('backbone.bn1.running_mean')!.dataSync())).toEqual(Array.from(before));
    // Re-estimation of the backbone's statistics: cumulative average over batches.
    net.resetRunningStats('backbone');
    tf.tidy(() => {
      const a = batch(1, 32, 8);
      const b = batch(1, 32, 9);
      net.forward(a.image, a.edge, { training: true, backboneBatchStats: true, momentum: 'cumulative', updateRunningStats: true });
      net.forward(b.image, b.edge, { training: true, backboneBatchStats: true, momentum: 'cumulative' });
    });
    expect(Array.from(net.variables.get('backbone.bn1.running_mean')!.dataSync())).not.toEqual(Array.from(before));
    net.dispose();
  });

  it('gradients reach the trainable head and memories; exportWeights round-trips the layouts', () => {
    const cfg = tiny();
    const weights = initWeights(buildNetwork(cfg), 5);
    const net = new TfjsNetwork(tf, cfg, weights);
    const { image, edge } = batch(1, 32, 3);
    const { grads, value } = tf.variableGrads(() => {
      const out = net.forward(image, edge, { training: true });
      return tf.mean(tf.square(tf.sub(out.recon, image))) as TF.Scalar;
    }, net.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const names = new Map([...net.variables].map(([k, v]) => [v.name, k]));
    const withGrad = Object.keys(grads).map((k) => names.get(k));
    expect(withGrad).toContain('memory.0.weight');
    expect(withGrad).toContain('decoder.out.weight');
    tf.dispose([value, ...Object.values(grads), image, edge]);
    const exported = net.exportWeights();
    for (const name of ['edge.1.conv1.weight', 'backbone.conv1.weight', 'memory.2.weight']) {
      expect(Array.from(exported.get(name)!.data)).toEqual(Array.from(weights.get(name)!.data));
    }
    net.dispose();
  });
});

describe('tfjs executor memory hygiene', () => {
  it('forward leaves only its outputs allocated', () => {
    const cfg = tiny();
    const net = new TfjsNetwork(tf, cfg, initWeights(buildNetwork(cfg), 6));
    const { image, edge } = batch(1, 32, 4);
    const before = tf.memory().numTensors;
    const out = net.forward(image, edge, { training: true });
    expect(tf.memory().numTensors - before).toBe(1 + out.addressing.length);
    tf.dispose([out.recon, ...out.addressing.map((a) => a.weights), image, edge]);
    net.dispose();
  });
});
