import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/native.js';
import { edgeMapRef } from '../../src/score/reference/edge.js';
import { rgbToLabRef } from '../../src/score/reference/lab.js';
import { boxMeanRef } from '../../src/score/reference/box.js';
import { msgmsRef } from '../../src/score/reference/msgms.js';
import { fusedScoreRef } from '../../src/score/reference/fused.js';
import { regionsRef } from '../../src/score/reference/regions.js';
import { resolveScoringOptions } from '../../src/score/fused.js';
import { imagePair, maxAbsDiff, random, realImages } from '../score/helpers.js';
import { needs, tools } from '../helpers/require-tool.js';

const TOL = 1e-5;

// Native and TypeScript reference must agree within 1e-5 (max abs) on every kernel (issue 2).
needs(tools.native()).describe('native vs TypeScript reference', () => {
  const addon = nativeAddon()!;
  addon.setDevice('cpu');

  it('edge map: uint8 exact, float within 1e-5', async () => {
    for (const [w, h] of [[33, 17], [64, 48], [1, 1], [2, 1]] as const) {
      const f = random(w * h * 3, w + h);
      const u = Uint8Array.from(f, (v) => Math.floor(v * 256));
      for (const ch of [1, 3] as const) {
        const uu = u.subarray(0, w * h * ch);
        expect(Array.from(await addon.edgeMap(uu, w, h, ch))).toEqual(Array.from(edgeMapRef(uu, w, h, ch)));
        const ff = f.subarray(0, w * h * ch);
        expect(maxAbsDiff(await addon.edgeMap(ff, w, h, ch), edgeMapRef(ff, w, h, ch))).toBeLessThan(TOL);
      }
    }
  });

  it('Lab on random colours and on the edges of the sRGB/f segments', async () => {
    const rgb = random(3 * 40000, 7);
    rgb.set([0, 0, 0, 1, 1, 1, 0.04045, 0.04045, 0.04045, 0.0404, 0.0405, 0.5, 0.08, 0.08, 0.08, 1.5, -0.5, 0.5]);
    expect(maxAbsDiff(await addon.rgbToLab(rgb), rgbToLabRef(rgb))).toBeLessThan(TOL);
    // Hand-computed closed-form values (Python, double): white, black, R, G, B, mid-grey.
    const hand = [100, 0, 0, 0, 0, 0, 53.2405879437, 80.0941668345, 67.2015369951, 87.735099488, -86.181257511, 83.1774770685, 32.295672565, 79.1870018039, -107.8617472521, 53.3889647411, 0, 0];
    const lab = await addon.rgbToLab(new Float32Array([1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5]));
    expect(maxAbsDiff(lab, hand)).toBeLessThan(1e-4);
  });

  it('box mean, valid and zero borders, windows larger than the image', async () => {
    const [w, h] = [45, 31];
    const plane = random(w * h, 3);
    for (const k of [1, 3, 11, 21, 63]) {
      for (const border of ['valid', 'zero'] as const) {
        expect(maxAbsDiff(await addon.boxMean(plane, w, h, k, border), boxMeanRef(plane, w, h, k, border))).toBeLessThan(TOL);
      }
    }
  });

  it('MSGMS on random pairs, odd sizes, 1..4 scales', async () => {
    for (const [w, h, seed] of [[48, 40, 1], [37, 29, 2]] as const) {
      const { input, recon } = imagePair(w, h, seed);
      const noise = random(w * h * 3, seed + 10);
      for (const scales of [1, 2, 4]) {
        expect(maxAbsDiff(await addon.msgms(input, recon, w, h, scales, 0.0026), msgmsRef(input, recon, w, h, scales, 0.0026))).toBeLessThan(TOL);
        expect(maxAbsDiff(await addon.msgms(input, noise, w, h, scales, 0.0026), msgmsRef(input, noise, w, h, scales, 0.0026))).toBeLessThan(TOL);
      }
    }
  });

  it('fused map and score, every option, 1 and 2 threads', async () => {
    const [w, h] = [56, 44];
    const { input, recon } = imagePair(w, h, 4);
    const variants = [{}, { border: 'zero' as const }, { scales: 2, mu: 0.01, structureWindow: 9, colorWindow: 5 }, { aggregation: { kind: 'topk' as const, fraction: 0.05 } }, { shadingWindow: 9 }, { shadingWindow: 31, border: 'zero' as const }];
    for (const threads of [1, 2]) {
      addon.setThreads(threads);
      for (const v of variants) {
        const o = resolveScoringOptions(v);
        const ref = fusedScoreRef(input, recon, w, h, o);
        const got = await addon.fusedScore(input, recon, w, h, {
          ...o,
          topkFraction: o.aggregation.kind === 'topk' ? o.aggregation.fraction : 0,
        });
        expect(maxAbsDiff(got.map, ref.map), JSON.stringify(v)).toBeLessThan(TOL);
        expect(Math.abs(got.score - ref.score)).toBeLessThan(TOL);
      }
    }
    addon.setThreads(2);
  });

  it('fused map on random colours (worst case for the colour term), float and double colour paths', async () => {
    const [w, h] = [48, 40];
    for (const seed of [1, 2]) {
      const a = random(w * h * 3, seed);
      const b = random(w * h * 3, seed + 50);
      // Default constants (single-precision colour term); then small windows / large mu (double precision).
      // (Map values stay below 64 here: beyond that, float32's own spacing of the map exceeds 1e-5.)
      for (const v of [{}, { mu: 2e-3, colorWindow: 21 }, { mu: 1e-3, colorWindow: 1, structureWindow: 1 }, { mu: 5e-3 }]) {
        const o = resolveScoringOptions(v);
        const ref = fusedScoreRef(a, b, w, h, o);
        const got = await addon.fusedScore(a, b, w, h, { ...o, topkFraction: 0 });
        expect(maxAbsDiff(got.map, ref.map), JSON.stringify(v)).toBeLessThan(TOL);
      }
    }
  });

  it('regions equal the reference on a thresholded random map', async () => {
    const [w, h] = [50, 40];
    const map = random(w * h, 12);
    for (const t of [0.5, 0.8, 0.97]) {
      const got = await addon.regions(map, w, h, t);
      const ref = regionsRef(map, w, h, t);
      expect(got.map((r) => [r.x, r.y, r.width, r.height, r.area, r.maxScore])).toEqual(ref.map((r) => [r.x, r.y, r.width, r.height, r.area, r.maxScore]));
      expect(maxAbsDiff(got.map((r) => r.meanScore), ref.map((r) => r.meanScore))).toBeLessThan(1e-9);
    }
  });

  needs(tools.dataset()).it('every kernel on real magnetic_tile images', async () => {
    const [w, h] = [96, 72];
    const [good, blowhole, crack] = await realImages(w, h);
    for (const [a, b] of [[good!, blowhole!], [blowhole!, crack!]]) {
      expect(maxAbsDiff(await addon.rgbToLab(a), rgbToLabRef(a))).toBeLessThan(TOL);
      expect(maxAbsDiff(await addon.edgeMap(a, w, h, 3), edgeMapRef(a, w, h, 3))).toBeLessThan(TOL);
      expect(maxAbsDiff(await addon.msgms(a, b, w, h, 4, 0.0026), msgmsRef(a, b, w, h, 4, 0.0026))).toBeLessThan(TOL);
      const o = resolveScoringOptions({});
      const ref = fusedScoreRef(a, b, w, h, o);
      const got = await addon.fusedScore(a, b, w, h, { ...o, topkFraction: 0 });
      expect(maxAbsDiff(got.map, ref.map)).toBeLessThan(TOL);
      expect(Math.abs(got.score - ref.score)).toBeLessThan(TOL);
      const plane = ref.map;
      expect(maxAbsDiff(await addon.boxMean(plane, w, h, 21, 'valid'), boxMeanRef(plane, w, h, 21, 'valid'))).toBeLessThan(TOL);
    }
  });
});
