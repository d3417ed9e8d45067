import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fusedScore, resolveScoringOptions } from '../../src/score/fused.js';
import { edgeMap } from '../../src/preprocess/edge-map.js';
import { regions } from '../../src/decide/regions.js';
import { fusedScoreRef } from '../../src/score/reference/fused.js';
import { imagePair, maxAbsDiff } from './helpers.js';
import { ROOT } from '../helpers/require-tool.js';

const W = 32;
const H = 24;
const { input, recon } = imagePair(W, H, 1);

describe('fusedScore (public API)', () => {
  it('scores like the reference with default and custom options', async () => {
    const o = { scales: 3, mu: 2e-3, aggregation: { kind: 'topk' as const, fraction: 0.1 } };
    const got = await fusedScore(input, recon, W, H, o);
    const ref = fusedScoreRef(input, recon, W, H, resolveScoringOptions(o));
    expect(got.map).toBeInstanceOf(Float32Array);
    expect(got.map).toHaveLength(W * H);
    expect(maxAbsDiff(got.map, ref.map)).toBeLessThan(1e-5);
    expect(got.score).toBeCloseTo(ref.score, 5);
    expect((await fusedScore(input, input, W, H)).score).toBeCloseTo(0, 6);
  });

  it('a margin changes the image score only, as the reference computes it', async () => {
    for (const aggregation of [{ kind: 'max' as const, margin: 0.25 }, { kind: 'topk' as const, fraction: 0.05, margin: 0.1 }]) {
      const got = await fusedScore(input, recon, W, H, { aggregation });
      const ref = fusedScoreRef(input, recon, W, H, resolveScoringOptions({ aggregation }));
      const whole = await fusedScore(input, recon, W, H, { aggregation: { ...aggregation, margin: 0 } });
      expect(got.map).toEqual(whole.map);
      expect(got.score).toBeCloseTo(ref.score, 5);
    }
    await expect(fusedScore(input, recon, W, H, { aggregation: { kind: 'max', margin: 0.5 } })).rejects.toThrow(/aggregation.margin/);
  });

  it('shadingWindow: a lighting difference leaves the score, a small defect stays; as the reference computes it', async () => {
    // The reconstruction = the input brighter by 0.1 plus a gentle ramp: lighting, not a defect.
    const lit = input.map((v, i) => v + 0.1 + 0.003 * ((i / 3) % W));
    const plain = await fusedScore(input, lit, W, H);
    const shaded = await fusedScore(input, lit, W, H, { shadingWindow: 15 });
    expect(plain.score).toBeGreaterThan(0.05);
    expect(shaded.score).toBeLessThan(plain.score / 10);
    const ref = fusedScoreRef(input, lit, W, H, resolveScoringOptions({ shadingWindow: 15 }));
    expect(maxAbsDiff(shaded.map, ref.map)).toBeLessThan(1e-5);
    // imagePair's recon carries a small noise patch (a defect): the shading transfer keeps most of its score.
    const defect = await fusedScore(input, recon, W, H);
    const defectShaded = await fusedScore(input, recon, W, H, { shadingWindow: 15 });
    expect(defectShaded.score).toBeGreaterThan(0.5 * defect.score);
    await expect(fusedScore(input, recon, W, H, { shadingWindow: 16 })).rejects.toThrow(
      'Invalid scoring option shadingWindow: 16 is even; use 0 (off) or an odd window (e.g. 17)',
    );
    await expect(fusedScore(input, recon, W, H, { shadingWindow: -1 })).rejects.toThrow(/Invalid scoring option shadingWindow/);
  });

  it('rejects non-Float32Array, wrong lengths, zero and mismatched sizes', async () => {
    await expect(fusedScore([1, 2, 3] as unknown as Float32Array, recon, W, H)).rejects.toThrow(TypeError);
    await expect(fusedScore(new Float64Array(W * H * 3) as unknown as Float32Array, recon, W, H)).rejects.toThrow(
      'Expected a Float32Array for input but received Float64Array of length 2304',
    );
    await expect(fusedScore(input, recon.subarray(3), W, H)).rejects.toThrow(
      new RangeError('Expected recon to have 2304 elements but it has 2301'),
    );
    await expect(fusedScore(input, recon, 0, H)).rejects.toThrow('Expected a positive integer for width but received 0');
    await expect(fusedScore(input, recon, W, 1.5)).rejects.toThrow(TypeError);
    await expect(fusedScore(input, recon, W + 1, H)).rejects.toThrow(RangeError); // size mismatch with the data
  });

  it('rejects bad options with the option name and the fix', async () => {
    await expect(fusedScore(input, recon, W, H, { structureWindow: 20 })).rejects.toThrow(
      'Invalid scoring option structureWindow: 20 is even; box windows must be odd (e.g. 21)',
    );
    await expect(fusedScore(input, recon, W, H, { scales: 0 })).rejects.toThrow(/Invalid scoring option scales/);
    await expect(fusedScore(input, recon, W, H, { border: 'reflect' as 'valid' })).rejects.toThrow(/Invalid scoring option border/);
    await expect(fusedScore(input, recon, W, H, { aggregation: { kind: 'topk', fraction: 2 } })).rejects.toThrow(/aggregation.fraction/);
  });

  it('rejects images too small for the scales and non-finite values', async () => {
    const small = new Float32Array(6 * 4 * 3);
    await expect(fusedScore(small, small, 6, 4, { scales: 4 })).rejects.toThrow(
      'Image 6×4 is too small for 4 MSGMS scales: each side needs at least 8 pixels; lower scales or enlarge the image',
    );
    const bad = recon.slice();
    bad[7] = Number.NaN;
    await expect(fusedScore(input, bad, W, H)).rejects.toThrow(/recon has a non-finite value at element 7 \(pixel 2\)/);
  });
});

describe('edgeMap and regions (public API)', () => {
  it('edgeMap keeps the element type and validates', async () => {
    const u = await edgeMap(new Uint8Array([10, 50]), 2, 1, 1);
    expect(u).toBeInstanceOf(Uint8Array);
    expect(Array.from(u)).toEqual([40, 40]);
    const f = await edgeMap(new Float32Array([1, 0, 0, 0, 0, 1]), 2, 1);
    expect(f).toBeInstanceOf(Float32Array);
    expect(f[0]).toBeCloseTo(0.185, 5);
    await expect(edgeMap(new Uint16Array(2) as unknown as Uint8Array, 2, 1, 1)).rejects.toThrow(TypeError);
    await expect(edgeMap(new Uint8Array(5), 2, 1, 3)).rejects.toThrow('Expected image to have 6 elements (2×1×3) but it has 5');
    await expect(edgeMap(new Uint8Array(4), 2, 1, 2 as 3)).rejects.toThrow(TypeError);
  });

  it('regions finds components and validates', async () => {
    const map = new Float32Array([0.9, 0, 0, 0, 0.6, 0.7, 0, 0, 0]);
    const r = await regions(map, 3, 3, 0.5);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ x: 0, y: 0, width: 3, height: 2, area: 3 });
    await expect(regions(map, 3, 2, 0.5)).rejects.toThrow(RangeError);
    await expect(regions(map, 3, 3, Number.NaN)).rejects.toThrow(TypeError);
  });
});

describe('TypeScript fallback', () => {
  it('MMAEREC_NATIVE=0: one warning line naming the reason and the fix, same numbers', () => {
    const script = `
      import { fusedScore } from './src/score/fused.ts';
      const n = 16 * 16 * 3;
      const a = new Float32Array(n).map((_, i) => (i % 7) / 7);
      const b = a.map((v, i) => (i % 11 === 0 ? 1 - v : v));
      const r = await fusedScore(a, b, 16, 16, { scales: 2 });
      await fusedScore(a, b, 16, 16, { scales: 2 });
      console.log(JSON.stringify({ score: r.score }));`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    const fallback = run({ MMAEREC_NATIVE: '0' });
    expect(fallback.status, fallback.stderr).toBe(0);
    const warnings = fallback.stderr.split('\n').filter((l) => l.includes('native addon not loaded'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/disabled by MMAEREC_NATIVE=0.*run `npm run build:native`/);
    const normal = run({});
    expect(normal.status, normal.stderr).toBe(0);
    const a = JSON.parse(fallback.stdout.trim()).score as number;
    const b = JSON.parse(normal.stdout.trim()).score as number;
    expect(Math.abs(a - b)).toBeLessThan(1e-5);
  });
});
