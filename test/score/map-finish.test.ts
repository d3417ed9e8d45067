/**
 * The per-frame parts of finishing a map without per-frame work that repeats (issue 17 item 4): the position
 * statistics resized once per map size, normalisation in place, and the aggregation on a reused scratch — each
 * equal to the computation it replaces.
 */
import { describe, expect, it } from 'vitest';
import type { PositionNorm } from '../../src/model/manifest.js';
import { resizeBilinear } from '../../src/score/feature-fusion.js';
import { normalizeMap, normGrid, resizedStats } from '../../src/score/position-norm.js';
import { aggregateRef } from '../../src/score/reference/fused.js';
import { seededRandom } from '../../src/util/random.js';

function norm(width: number, height: number, seed: number): PositionNorm {
  const grid = normGrid(width, height);
  const r = seededRandom(seed);
  const cells = grid.width * grid.height;
  return { grid, mean: Array.from({ length: cells }, () => r()), std: Array.from({ length: cells }, () => 0.1 + r()), images: 3 };
}

/** The aggregation as it was: every kept value in a number[], sorted descending, the top ones summed in order. */
function aggregateAsBefore(map: Float32Array, kind: 'max' | 'topk', fraction: number, margin: number, width: number, height: number): number {
  const mx = Math.floor(margin * width);
  const my = Math.floor(margin * height);
  const kept: number[] = [];
  for (let y = my; y < height - my; y++) for (let x = mx; x < width - mx; x++) kept.push(map[y * width + x]!);
  if (kind === 'max') return kept.reduce((a, v) => (v > a ? v : a), -Infinity);
  const sorted = kept.sort((p, q) => q - p);
  const k = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  let sum = 0;
  for (let i = 0; i < k; i++) sum += sorted[i]!;
  return sum / k;
}

describe('finishing a map', () => {
  it('resizes the statistics once per map size, to the values a per-frame resize gives', () => {
    const n = norm(40, 24, 1);
    const a = resizedStats(n, 40, 24);
    expect(resizedStats(n, 40, 24)).toBe(a); // kept, not recomputed
    const b = resizedStats(n, 80, 48);
    expect(b).not.toBe(a);
    expect(b.mean.length).toBe(80 * 48);
    expect(Array.from(a.mean)).toEqual(Array.from(resizeBilinear(Float32Array.from(n.mean), n.grid.width, n.grid.height, 40, 24)));
    expect(Array.from(a.std)).toEqual(Array.from(resizeBilinear(Float32Array.from(n.std), n.grid.width, n.grid.height, 40, 24)));
    expect(resizedStats(norm(40, 24, 1), 40, 24)).not.toBe(a); // another PositionNorm, its own entry
  });

  it('normalises in place to the same values as into a new array, and as (A − μ) / σ resized per frame', () => {
    const n = norm(40, 24, 2);
    const r = seededRandom(3);
    const map = Float32Array.from({ length: 40 * 24 }, () => 3 * r());
    const fresh = normalizeMap(map, 40, 24, n);
    const mean = resizeBilinear(Float32Array.from(n.mean), n.grid.width, n.grid.height, 40, 24);
    const std = resizeBilinear(Float32Array.from(n.std), n.grid.width, n.grid.height, 40, 24);
    expect(Array.from(fresh)).toEqual(Array.from(map, (v, i) => Math.fround((v - mean[i]!) / std[i]!)));
    const inPlace = map.slice();
    expect(normalizeMap(inPlace, 40, 24, n, inPlace)).toBe(inPlace);
    expect(Array.from(inPlace)).toEqual(Array.from(fresh));
  });

  it('aggregates exactly as before, max and top-k, with margins, across map sizes that reuse the scratch', () => {
    const r = seededRandom(4);
    for (const [width, height] of [[64, 48], [17, 9], [128, 128], [5, 4]] as const) {
      const map = Float32Array.from({ length: width * height }, () => r() * 10 - 2);
      for (const margin of [0, 0.1, 0.25]) {
        expect(aggregateRef(map, { kind: 'max', margin }, width, height)).toBe(aggregateAsBefore(map, 'max', 0, margin, width, height));
        for (const fraction of [0.01, 0.1, 1]) {
          expect(aggregateRef(map, { kind: 'topk', fraction, margin }, width, height)).toBe(aggregateAsBefore(map, 'topk', fraction, margin, width, height));
        }
      }
    }
  });
});
