import { describe, expect, test } from 'vitest';
import { scoringSchema } from '../../src/model/manifest.js';
import { DEFAULT_AUGMENT } from '../../src/train/augment.js';
import { DEFAULT_SCORING_GRID, pairScorable, searchableGrid, selectScoring, syntheticAnomalies, type ReconstructedPair } from '../../src/train/select-scoring.js';
import { seededRandom } from '../../src/util/random.js';

const S = 64;

/** A textured good image (fine stripes and noise) in HWC float. */
function goodImage(seed: number): Float32Array {
  const r = seededRandom(seed);
  const img = new Float32Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const v = 0.5 + 0.15 * Math.sin(x * 0.9 + seed) * Math.cos(y * 0.7) + 0.05 * r();
    for (let c = 0; c < 3; c++) img[(y * S + x) * 3 + c] = v;
  }
  return img;
}

/** A reconstruction that misses the image's broad lighting: input minus a ramp of random slope. */
function shadedRecon(input: Float32Array, seed: number): Float32Array {
  const slope = 0.2 + 0.3 * seededRandom(seed + 99)();
  return input.map((v, i) => v - slope * (Math.floor(i / 3) % S) / S);
}

/** A small dark spot pasted into a copy of `img`. */
function withSpot(img: Float32Array, seed: number): Float32Array {
  const r = seededRandom(seed + 7);
  const out = img.slice();
  const cx = 16 + Math.floor(r() * 32);
  const cy = 16 + Math.floor(r() * 32);
  for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = 0.05;
  return out;
}

describe('syntheticAnomalies', () => {
  test('one changed copy per image, deterministic per seed, the inputs untouched', () => {
    const images = [1, 2, 3, 4].map(goodImage);
    const copies = images.map((i) => i.slice());
    const a = syntheticAnomalies(images, S, DEFAULT_AUGMENT, 5);
    expect(a).toHaveLength(4);
    a.forEach((img, i) => expect(img.some((v, k) => v !== images[i]![k])).toBe(true));
    images.forEach((img, i) => expect(img).toEqual(copies[i]));
    expect(syntheticAnomalies(images, S, DEFAULT_AUGMENT, 5)).toEqual(a);
    expect(syntheticAnomalies(images, S, DEFAULT_AUGMENT, 6)).not.toEqual(a);
  });
});

describe('selectScoring', () => {
  const base = scoringSchema.parse({});

  test('chooses the shading transfer when good reconstructions miss the lighting and anomalies are local', async () => {
    const clean: ReconstructedPair[] = [];
    const anomalous: ReconstructedPair[] = [];
    for (let i = 0; i < 8; i++) {
      const input = goodImage(i);
      const recon = shadedRecon(input, i);
      clean.push({ input, recon });
      // the defect is in the input only: the network reconstructs the good surface
      anomalous.push({ input: withSpot(input, i), recon: shadedRecon(input, i + 50) });
    }
    const r = await selectScoring({ clean: clean.map((p) => pairScorable(p, S)), anomalous: anomalous.map((p) => pairScorable(p, S)), base, grid: searchableGrid({}) });
    expect(r.candidates).toBe(4 * 3 * 3);
    expect(r.searched).toEqual(['shadingWindow', 'mu', 'margin']);
    expect(r.scoring.shadingWindow).toBeGreaterThan(0);
    expect(r.auroc).toBeGreaterThan(r.baseAuroc);
    expect(r.auroc).toBe(r.top[0]!.auroc);
    expect(r.on).toMatch(/^8 held-out good images vs 8 synthetic anomalies/);
  });

  test('nothing to tell apart: the paper setting stays', async () => {
    const pairs = [1, 2, 3, 4].map((i) => pairScorable({ input: goodImage(i), recon: goodImage(i) }, S));
    const r = await selectScoring({ clean: pairs, anomalous: pairs, base, grid: searchableGrid({}) });
    expect(r.auroc).toBe(0.5);
    expect(r.scoring.shadingWindow).toBe(0);
    expect(r.scoring.mu).toBe(base.mu);
    expect(r.scoring.aggregation.margin ?? 0).toBe(0);
  });

  test('keys the config fixed are not searched', () => {
    expect(searchableGrid({ shadingWindow: 17 })).toEqual({ mu: DEFAULT_SCORING_GRID.mu, margin: DEFAULT_SCORING_GRID.margin });
    expect(searchableGrid({ mu: 0.002, aggregation: { kind: 'max' } })).toEqual({ shadingWindow: DEFAULT_SCORING_GRID.shadingWindow });
    expect(searchableGrid({ shadingWindow: 0, mu: 0.001, aggregation: { kind: 'max' } })).toEqual({});
  });
});
