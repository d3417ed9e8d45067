/** alpha-one-scoring.test.ts with the TypeScript fallback (MMAEREC_NATIVE=0): the full computation scores in TS. */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.MMAEREC_NATIVE = '0'; // before src/native.ts loads (it reads this once)
});

const { nativeStatus } = await import('../../src/native.js');
const { expectSameAsFullComputation } = await import('./alpha-one-scoring.js');

describe('α = 1: the image-space map is skipped, every result unchanged (TypeScript fallback)', () => {
  it('runs without the addon', () => {
    expect(nativeStatus().loaded).toBe(false);
  });

  it('max aggregation, and top-k with a margin', async () => {
    expect(await expectSameAsFullComputation({ scoring: { aggregation: { kind: 'max' } } }, 2)).toBeGreaterThan(0);
    expect(await expectSameAsFullComputation({ scoring: { aggregation: { kind: 'topk', fraction: 0.05, margin: 0.1 } } }, 2)).toBeGreaterThan(0);
  });
});
