/**
 * Issue 17 item 4: with a feature fusion of α = 1 the Inspector skips the image-space map (it has no weight) and
 * caches the position statistics per map size; its map, image score, regions and heatmaps stay those of the full
 * computation (alpha-one-scoring.ts), to 1e-6, for both aggregations, with a margin, whole and tiled; the reconstruction is the same array's values.
 */
import { describe, expect, it } from 'vitest';
import { nativeStatus } from '../../src/native.js';
import { expectSameAsFullComputation, SIZE } from './alpha-one-scoring.js';

describe('α = 1: the image-space map is skipped, every result unchanged (native scoring core)', () => {
  it('runs with the addon (the full computation scores natively)', () => {
    expect(nativeStatus().loaded).toBe(true);
  });

  it('max aggregation', async () => {
    expect(await expectSameAsFullComputation({ scoring: { aggregation: { kind: 'max' } } })).toBeGreaterThan(0);
  });

  it('top-k aggregation with a margin', async () => {
    expect(await expectSameAsFullComputation({ scoring: { aggregation: { kind: 'topk', fraction: 0.05, margin: 0.1 } } })).toBeGreaterThan(0);
  });

  it('tiled (160×64 frames, three overlapping tiles), with a margin', async () => {
    const tiling = { shortEdge: SIZE, overlap: 0.25 };
    expect(await expectSameAsFullComputation({ scoring: { aggregation: { kind: 'max', margin: 0.05 } }, tiling, frameWidth: 160, frameHeight: SIZE }, 2)).toBeGreaterThan(0);
  });
});
