/** Per-position normalisation (src/score/position-norm.ts) and its label-free choice (src/train/position-choice.ts). */
import { describe, expect, it } from 'vitest';
import { areaResize, normalizeMap, normGrid, positionStats } from '../../src/score/position-norm.js';
import { choosePositionNorm } from '../../src/train/position-choice.js';
import type { Scorable } from '../../src/train/select-scoring.js';
import type { ScoringOptions } from '../../src/model/manifest.js';
import { seededRandom } from '../../src/util/random.js';

const W = 32;
const H = 16;

/** A good map: noise everywhere and a hot stripe at x = 4..6 that every good part has (a thread flank). */
function goodMap(r: () => number): Float32Array {
  return Float32Array.from({ length: W * H }, (_, i) => (i % W >= 4 && i % W < 7 ? 3 : 0) + 0.2 * r());
}
/** An anomalous map: a good one with a weaker spot elsewhere (x = 20, y = 8), below the stripe's level. */
function anomalousMap(r: () => number): Float32Array {
  const m = goodMap(r);
  for (let y = 7; y < 10; y++) for (let x = 19; x < 22; x++) m[y * W + x] += 1.5;
  return m;
}
const scorable = (map: Float32Array): Scorable => ({
  async score(_s, _f, norm) {
    const out = norm ? normalizeMap(map, W, H, norm) : map;
    return { map: out, width: W, height: H, score: out.reduce((a, v) => Math.max(a, v), -Infinity) };
  },
});
const scoring = {} as ScoringOptions;

describe('position normalisation', () => {
  it('area-resizes, keeps the grid under its cap with the aspect ratio, and computes μ and floored σ', () => {
    expect(Array.from(areaResize(Float32Array.from([1, 3, 5, 7]), 4, 1, 2, 1))).toEqual([2, 6]);
    const g = normGrid(629, 256);
    expect(g.width * g.height).toBeLessThanOrEqual(2048);
    expect(g.width / g.height).toBeCloseTo(629 / 256, 1);
    expect(normGrid(20, 10)).toEqual({ width: 20, height: 10 });
    const stats = positionStats([{ map: Float32Array.from([0, 2]), width: 2, height: 1 }, { map: Float32Array.from([2, 2]), width: 2, height: 1 }], { width: 2, height: 1 });
    expect(stats.mean).toEqual([1, 2]);
    expect(stats.std[0]).toBeCloseTo(1, 12);
    expect(stats.std[1]).toBeCloseTo(0.25 * 0.5, 12); // σ = 0 floored at a quarter of the mean σ (0.5)
    expect(stats.images).toBe(2);
    const n = normalizeMap(Float32Array.from([3, 2]), 2, 1, stats);
    expect(n[0]).toBeCloseTo(2, 6);
    expect(n[1]).toBeCloseTo(0, 6);
  });

  it('is chosen where every good part has the same hot place, and left out where positions mean nothing', async () => {
    const r = seededRandom(3);
    const train = Array.from({ length: 20 }, () => scorable(goodMap(r)));
    const clean = Array.from({ length: 12 }, () => scorable(goodMap(r)));
    const anomalous = Array.from({ length: 12 }, () => scorable(anomalousMap(r)));
    const aligned = await choosePositionNorm({ train, clean, anomalous, scoring });
    expect(aligned.auroc.on).toBeGreaterThan(aligned.auroc.off);
    expect(aligned.norm).toBeDefined();
    expect(aligned.statsImages).toBe(20);
    // pure noise, the anomaly already the maximum: nothing to gain, so it stays off
    const noise = () => scorable(Float32Array.from({ length: W * H }, () => r()));
    const spot = () => { const m = Float32Array.from({ length: W * H }, () => r()); m[100] = 5; return scorable(m); };
    const plain = await choosePositionNorm({ train: Array.from({ length: 20 }, noise), clean: Array.from({ length: 12 }, noise), anomalous: Array.from({ length: 12 }, spot), scoring });
    expect(plain.auroc.off).toBe(1);
    expect(plain.norm).toBeUndefined();
  });
});

describe('a bundle with a position normalisation', () => {
  it('keeps it through write and load, and the Inspector scores the normalised map', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createBundle, writeBundle, loadBundle } = await import('../../src/model/bundle.js');
    const { presetConfig } = await import('../../src/model/config.js');
    const { Inspector } = await import('../../src/pipeline/inspector.js');
    const dir = await mkdtemp(join(tmpdir(), 'mmaerec-pn-'));
    try {
      const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 16 }, levelChannels: [4, 4, 8, 8], headChannels: 4 });
      // μ = 1 everywhere, σ = 0.5: A'' = (A − 1) / 0.5
      const positionNorm = { grid: { width: 4, height: 4 }, mean: new Array(16).fill(1), std: new Array(16).fill(0.5), images: 3 };
      const plainDir = join(dir, 'plain');
      const normDir = join(dir, 'norm');
      await writeBundle(plainDir, await createBundle({ config, seed: 2 }));
      await writeBundle(normDir, await createBundle({ config, seed: 2, positionNorm }));
      const loaded = await loadBundle(normDir);
      expect(loaded.manifest.positionNorm).toEqual(positionNorm);
      const frame = { id: 'p', capturedAt: 0, image: { width: 32, height: 32, channels: 3 as const, data: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 37) % 256) } };
      const scores = [];
      for (const d of [plainDir, normDir]) {
        const inspector = await Inspector.create(d, { threads: 1 });
        try {
          scores.push((await inspector.analyze(frame)).result.score);
        } finally {
          await inspector.close();
        }
      }
      expect(scores[1]).toBeCloseTo((scores[0]! - 1) / 0.5, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
