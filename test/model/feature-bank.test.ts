/**
 * The feature bank (model config featureBank): the tfjs executor and the exported ONNX graph give the same
 * distance map, both equal a direct nearest-neighbour oracle over the patch features, a bundle without a bank is
 * unchanged, and the greedy coreset picks the far-out patch a random subset would miss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOutputs } from '../../src/infer/backend.js';
import { createBackend } from '../../src/infer/registry.js';
import { createBundle, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/init.js';
import { buildNetwork } from '../../src/model/network.js';
import { loadTfjs, TfjsNetwork } from '../../src/model/tfjs-executor.js';
import { greedyCoreset, fillFeatureBank } from '../../src/train/feature-bank.js';
import { spread } from '../../src/util/spread.js';
import { Rng } from '../../src/train/rng.js';
import { seededRandom } from '../../src/util/random.js';

const config = presetConfig('lite', {
  inputSize: 64, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8, memory: { levels: [] }, featureBank: { items: 32 },
});
let dir: string;

beforeAll(async () => {
  await loadTfjs('cpu');
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-bank-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const images = (n: number, seed: number): Float32Array[] => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => new Float32Array(64 * 64 * 3).map(() => r()));
};

describe('feature bank', () => {
  it('the graph has the bank only when configured; its distance map sits on the stride-8 grid', () => {
    const plain = buildNetwork(presetConfig('lite', { inputSize: 64, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8 }));
    expect(plain.outputs.featureBank).toBeUndefined();
    expect(plain.params.some((p) => p.name.startsWith('featureBank'))).toBe(false);
    const g = buildNetwork(config);
    expect(g.shapes.get(g.outputs.featureBank!.distance)).toEqual([1, 8, 8]);
    // patches: level 2 (16 ch at 64/8) + level 3 upsampled (32 ch)
    expect(g.shapes.get(g.outputs.featureBank!.patches)).toEqual([16 + 32, 8, 8]);
    expect(g.params.find((p) => p.name === 'featureBank.bank')!.shape).toEqual([32, 48]);
  });

  it('tfjs and ONNX Runtime give the same distances, equal to a nearest-neighbour oracle over the patches', async () => {
    const net = new TfjsNetwork(tf, config, initWeights(buildNetwork(config), 3));
    const fill = await fillFeatureBank(net, images(6, 1), 64, { batch: 3, seed: 0 });
    expect(fill).toMatchObject({ items: 32, channels: 48, patches: 6 * 64, images: 6 });
    const probe = images(1, 9)[0]!;
    const edge = new Float32Array(64 * 64).map((_, i) => (i % 5) / 5);
    const r = net.forward(tf.tensor4d(probe, [1, 64, 64, 3]), tf.tensor4d(edge, [1, 64, 64, 1]), { training: false, featureBank: 'both' });
    const patches = (await r.featureBank!.patches!.data()) as Float32Array;
    const tfDist = (await r.featureBank!.distance!.data()) as Float32Array;
    const bank = net.variables.get('featureBank.bank')!.dataSync() as Float32Array;
    // oracle: brute force over the bank, in float64
    let oracleErr = 0;
    for (let p = 0; p < 64; p++) {
      let best = Infinity;
      for (let k = 0; k < 32; k++) {
        let d = 0;
        for (let c = 0; c < 48; c++) d += (patches[p * 48 + c]! - bank[k * 48 + c]!) ** 2;
        best = Math.min(best, d);
      }
      oracleErr = Math.max(oracleErr, Math.abs(Math.sqrt(best) - tfDist[p]!) / Math.max(1, Math.sqrt(best)));
    }
    expect(oracleErr).toBeLessThan(1e-3);
    expect(tfDist.some((d) => d > 0)).toBe(true);

    const bundle = await writeBundle(join(dir, 'bank'), await createBundle({ config, weights: net.exportWeights() }));
    const be = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 1 });
    // ONNX takes planar input
    const planar = new Float32Array(3 * 64 * 64);
    for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) planar[c * 64 * 64 + i] = probe[i * 3 + c]!;
    const out = runOutputs(await be.run({ image: planar, edge }));
    await be.dispose();
    expect(out.featureDistance).toBeDefined();
    expect(out.featureDistance!.length).toBe(64);
    let maxDiff = 0;
    for (let p = 0; p < 64; p++) maxDiff = Math.max(maxDiff, Math.abs(out.featureDistance![p]! - tfDist[p]!) / Math.max(1, tfDist[p]!));
    expect(maxDiff).toBeLessThan(1e-3);
    net.dispose();
  }, 60_000);

  it('other levels: the bank sits on the finest level\'s grid, coarser ones upsampled; tfjs = ONNX Runtime', async () => {
    const fine = presetConfig('lite', { ...config, featureBank: { items: 32, levels: [1, 2, 3] } });
    const g = buildNetwork(fine);
    expect(g.shapes.get(g.outputs.featureBank!.distance)).toEqual([1, 16, 16]); // stride 4 at 64²
    expect(g.shapes.get(g.outputs.featureBank!.patches)).toEqual([8 + 16 + 32, 16, 16]);
    const net = new TfjsNetwork(tf, fine, initWeights(g, 4));
    await fillFeatureBank(net, images(3, 2), 64, { batch: 3, seed: 0 });
    const probe = images(1, 5)[0]!;
    const edge = new Float32Array(64 * 64).fill(0.5);
    const r = net.forward(tf.tensor4d(probe, [1, 64, 64, 3]), tf.tensor4d(edge, [1, 64, 64, 1]), { training: false, featureBank: 'distance' });
    const tfDist = (await r.featureBank!.distance!.data()) as Float32Array;
    const bundle = await writeBundle(join(dir, 'bank-levels'), await createBundle({ config: fine, weights: net.exportWeights() }));
    const be = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 1 });
    const planar = new Float32Array(3 * 64 * 64);
    for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) planar[c * 64 * 64 + i] = probe[i * 3 + c]!;
    const out = runOutputs(await be.run({ image: planar, edge }));
    await be.dispose();
    expect(out.featureDistance!.length).toBe(256);
    let maxDiff = 0;
    for (let p = 0; p < 256; p++) maxDiff = Math.max(maxDiff, Math.abs(out.featureDistance![p]! - tfDist[p]!) / Math.max(1, tfDist[p]!));
    expect(maxDiff).toBeLessThan(1e-3);
    expect(() => presetConfig('lite', { ...config, featureBank: { items: 32, levels: [3, 2] } })).toThrow(/featureBank.levels must be increasing/);
    net.dispose();
  }, 60_000);

  it('greedy coreset keeps the outlier that a subset of the same size drops', () => {
    const rows = Array.from({ length: 200 }, (_, i) => Float32Array.from([i % 10 === 0 ? 0.01 * i : 0, 0]));
    rows.push(Float32Array.from([50, 50]));
    const chosen = greedyCoreset(rows, 4, new Rng(1));
    expect(chosen).toHaveLength(4);
    expect(chosen.some((c) => c[0] === 50 && c[1] === 50)).toBe(true);
    expect(greedyCoreset(rows.slice(0, 3), 8, new Rng(1))).toHaveLength(3);
    expect(spread([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 3, 5]);
  });
});

describe('feature fusion in inspection', () => {
  it('resizes like tf.image.resizeBilinear (half-pixel centres) and mixes the maps by α and the scales', async () => {
    const { resizeBilinear, fuseFeatureMap } = await import('../../src/score/feature-fusion.js');
    const src = Float32Array.from({ length: 12 }, (_, i) => (i * 7) % 5);
    const ours = resizeBilinear(src, 4, 3, 16, 12);
    const ref = tf.image.resizeBilinear(tf.tensor4d(src, [1, 3, 4, 1]), [12, 16], false, true).dataSync();
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(ref[i]!, 5);
    const map = new Float32Array(16 * 12).fill(2);
    const fused = fuseFeatureMap(map, 16, 12, src, { alpha: 0.25, mapScale: 4, featureScale: 2, grid: { width: 4, height: 3 } });
    for (let i = 0; i < fused.length; i++) expect(fused[i]).toBeCloseTo(0.75 * 2 / 4 + 0.25 * ours[i]! / 2, 6);
    expect(() => fuseFeatureMap(map, 16, 12, new Float32Array(5), { alpha: 0.5, mapScale: 1, featureScale: 1, grid: { width: 4, height: 3 } })).toThrow(/Expected a 4×3 feature distance map/);
  });

  it('the Inspector scores a fusing bundle on the fused map; TensorRT is skipped for it with the reason', async () => {
    const { Inspector } = await import('../../src/pipeline/inspector.js');
    const { createBackend: create } = await import('../../src/infer/registry.js');
    const net = new TfjsNetwork(tf, config, initWeights(buildNetwork(config), 4));
    await fillFeatureBank(net, images(4, 2), 64, { batch: 2, seed: 1 });
    const weights = net.exportWeights();
    net.dispose();
    const fusion = { alpha: 1, mapScale: 1, featureScale: 1, grid: { width: 8, height: 8 } };
    const fused = await writeBundle(join(dir, 'fused'), await createBundle({ config, weights, featureFusion: fusion }));
    const be = await create(fused, { backend: 'auto', threads: 1 });
    expect(be.name).toMatch(/^onnxruntime/);
    expect(be.skipped.find((s) => s.name === 'tensorrt')?.reason ?? '').toMatch(/^the TensorRT back end does not read a feature bank's featureDistance output yet/);
    await be.dispose();
    const inspector = await Inspector.create(fused, { threads: 1 });
    try {
      const frame = images(1, 5)[0]!;
      const data = Uint8Array.from(frame, (v) => Math.round(v * 255));
      const a = await inspector.analyze({ id: 'f', capturedAt: 0, image: { width: 64, height: 64, channels: 3, data } });
      // α = 1 and unit scales: the map is the distance map alone, resized to the input; the score its maximum
      const direct = await create(fused, { backend: 'onnxruntime', threads: 1 });
      const dist = runOutputs(await direct.run(await planarOf(a.input))).featureDistance!;
      await direct.dispose();
      const { resizeBilinear } = await import('../../src/score/feature-fusion.js');
      const up = resizeBilinear(dist, 8, 8, 64, 64);
      let worst = 0;
      for (let i = 0; i < up.length; i++) worst = Math.max(worst, Math.abs(up[i]! - a.map[i]!));
      expect(worst).toBeLessThan(1e-4);
      expect(a.result.score).toBeCloseTo(Math.max(...up), 4);
    } finally {
      await inspector.close();
    }
    await expect(createBundle({ config: presetConfig('lite', { inputSize: 64, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8 }), featureFusion: fusion }))
      .rejects.toThrow(/^a featureFusion was given for a network without a feature bank/);
  }, 60_000);
});

/** The Inspector's HWC input as the back end's planar image and edge inputs (edge as inspection computes it). */
async function planarOf(hwc: Float32Array): Promise<{ image: Float32Array; edge: Float32Array }> {
  const { edgeOf } = await import('../../src/train/batch.js');
  const n = hwc.length / 3;
  const image = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) image[c * n + i] = hwc[i * 3 + c]!;
  return { image, edge: await edgeOf(hwc, Math.sqrt(n)) };
}
