/**
 * Issue 17 item 4: with a feature fusion of α = 1 the Inspector skips the image-space map (it has no weight) and
 * caches the position statistics per map size; its map, image score, regions and heatmaps stay those of the full
 * computation (alpha-one-scoring.ts), to 1e-6, for both aggregations and with a margin.
 */
import { describe, expect, it } from 'vitest';
import { nativeStatus } from '../../src/native.js';
import { expectSameAsFullComputation } from './alpha-one-scoring.js';

describe('α = 1: the image-space map is skipped, every result unchanged (native scoring core)', () => {
  it('runs with the addon (the full computation scores natively)', () => {
    expect(nativeStatus().loaded).toBe(true);
  });

  it('max aggregation', async () => {
    expect(await expectSameAsFullComputation({ aggregation: { kind: 'max' } })).toBeGreaterThan(0);
  });

  it('top-k aggregation with a margin', async () => {
    expect(await expectSameAsFullComputation({ aggregation: { kind: 'topk', fraction: 0.05, margin: 0.1 } })).toBeGreaterThan(0);
  });
});
