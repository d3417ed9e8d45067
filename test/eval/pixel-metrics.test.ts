import { describe, expect, test } from 'vitest';
import { labelComponents } from '../../src/score/reference/components.js';
import { aupro, pixelAuroc, pixelMetrics, type PixelSample } from '../../src/eval/pixel-metrics.js';

/*
 * The hand-worked AUPRO case. One 4×3 image (3 rows × 4 columns):
 *
 *   mask            map
 *   1 1 0 0         0.9 0.5 0.1 0.2
 *   0 0 0 0         0.3 0.6 0.5 0.2
 *   0 0 0 1         0.1 0.1 0.4 0.7
 *
 * Regions (8-connectivity): A = {0.9, 0.5} (2 px), B = {0.7} (1 px) → R = 2. Normal pixels: N = 9, with scores
 * 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1. Walking the distinct thresholds from the top:
 *   t=0.9: A 1/2 covered            → PRO = (½ + 0)/2 = 0.25, FPR 0
 *   t=0.7: B covered                → PRO = (½ + 1)/2 = 0.75, FPR 0
 *   t=0.6: one normal pixel         → PRO 0.75, FPR 1/9
 *   t=0.5: A full AND a normal one (a tie: one diagonal step) → PRO 1, FPR 2/9
 *   t=0.4: → PRO 1, FPR 3/9 (past 0.3)
 * Area to FPR 0.3 by trapezoids: 0.75·(1/9) + (0.75+1)/2·(1/9) + 1·(0.3 − 2/9) = 0.3 − 0.375/9 = 31/120
 * → AUPRO = (31/120)/0.3 = 31/36.
 * To FPR 0.15 the cut falls inside the diagonal step: PRO(0.15) = 0.75 + 0.25·(0.15 − 1/9)/(1/9) = 0.8375,
 * area = 0.75/9 + (0.15 − 1/9)·(0.75 + 0.8375)/2 → divided by 0.15.
 * Pixel AUROC: for positives 0.9, 0.7 all 9 normals are lower; for 0.5: 7 lower + 1 tie → (9+9+7.5)/27.
 * Pixel AP: t=.9 P1 R⅓; t=.7 P1 R⅔; t=.6 no recall step; t=.5 TP3 FP2 → P⅗, R1 → ⅓ + ⅓ + ⅓·⅗.
 */
const hand: PixelSample = {
  width: 4,
  height: 3,
  mask: new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  map: new Float32Array([0.9, 0.5, 0.1, 0.2, 0.3, 0.6, 0.5, 0.2, 0.1, 0.1, 0.4, 0.7]),
};

describe('AUPRO, pixel AUROC and AP on the hand-worked case', () => {
  test('AUPRO to 0.3 = 31/36', () => {
    expect(aupro([hand])).toBeCloseTo(31 / 36, 6);
  });
  test('AUPRO to 0.15 interpolates inside a tied (diagonal) step', () => {
    const area = 0.75 / 9 + (0.15 - 1 / 9) * (0.75 + 0.8375) * 0.5;
    expect(aupro([hand], 0.15)).toBeCloseTo(area / 0.15, 6);
  });
  test('pixel AUROC and AP', () => {
    const m = pixelMetrics([hand]);
    expect(m.auroc).toBeCloseTo(25.5 / 27, 12);
    expect(m.ap).toBeCloseTo(1 / 3 + 1 / 3 + 0.2, 12);
    expect(m).toMatchObject({ positives: 3, negatives: 9, regions: 2 });
    expect(pixelAuroc([hand])).toBe(m.auroc);
  });
  test('a good image adds only normal pixels; curves start at (0,0) and end at (1,1)', () => {
    const good: PixelSample = { width: 2, height: 1, mask: new Uint8Array(2), map: new Float32Array([0.05, 0.95]) };
    const m = pixelMetrics([hand, good]);
    expect(m.negatives).toBe(11);
    expect(m.roc.x[0]).toBe(0);
    expect(m.pro.x.at(-1)).toBe(1);
    expect(m.pro.y.at(-1)).toBe(1);
    // the 0.95 normal pixel now outranks everything: FPR 1/11 before any PRO
    expect(m.pro.x[1]).toBeCloseTo(1 / 11, 12);
    expect(m.pro.y[1]).toBe(0);
  });
});

describe('perfect and inverted maps', () => {
  const mask = new Uint8Array([0, 0, 1, 1, 0, 0, 0, 1, 0]);
  test('perfect separation: every metric is 1', () => {
    const map = new Float32Array(Array.from(mask, (m) => (m ? 0.9 : 0.1)));
    const m = pixelMetrics([{ map, mask, width: 3, height: 3 }]);
    expect([m.auroc, m.ap, m.aupro]).toEqual([1, 1, 1]);
  });
  test('inverted: AUROC 0 and AUPRO 0', () => {
    const map = new Float32Array(Array.from(mask, (m) => (m ? 0.1 : 0.9)));
    const m = pixelMetrics([{ map, mask, width: 3, height: 3 }]);
    expect(m.auroc).toBe(0);
    expect(m.aupro).toBe(0);
  });
  test('constant map: AUROC ½, AP = defect share, AUPRO = 0.15 (the diagonal to (0.3, 0.3), divided by 0.3)', () => {
    const m = pixelMetrics([{ map: new Float32Array(9).fill(0.4), mask, width: 3, height: 3 }]);
    expect(m.auroc).toBe(0.5);
    expect(m.ap).toBeCloseTo(3 / 9, 12);
    expect(m.aupro).toBeCloseTo(0.15, 12);
  });
});

describe('8-connectivity', () => {
  test('diagonal neighbours form one region', () => {
    const c = labelComponents(new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), 3, 3);
    expect(c.count).toBe(1);
    expect(Array.from(c.sizes)).toEqual([3]);
  });
  test('separated blobs are separate regions, labelled in raster order', () => {
    const c = labelComponents(new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]), 4, 3);
    expect(c.count).toBe(2);
    expect(Array.from(c.sizes)).toEqual([2, 3]);
    expect(Array.from(c.labels)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2]);
    // a one-pixel gap separates them; a diagonal touch would not
    expect(labelComponents(new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1]), 4, 3).count).toBe(3);
  });
  test('each region counts equally, whatever its size (per-region overlap averaged over regions)', () => {
    // a 4-px region fully found and a 1-px region missed: PRO at the top threshold = (1 + 0)/2, not 4/5
    const mask = new Uint8Array([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
    const map = new Float32Array([0.9, 0.9, 0, 0, 0.9, 0.9, 0, 0, 0, 0, 0, 0.1]);
    const m = pixelMetrics([{ map, mask, width: 4, height: 3 }]);
    expect(m.pro.y[1]).toBeCloseTo(0.5, 12);
  });
});

/** Brute force: per distinct threshold, count directly; MVTec AD's trapezoid with x_max. */
function bruteAupro(samples: PixelSample[], limit: number): number {
  const comps = samples.map((s) => labelComponents(s.mask, s.width, s.height));
  const all = new Set<number>();
  for (const s of samples) for (const v of s.map) all.add(v);
  const ts = [...all].sort((a, b) => b - a);
  let N = 0, R = 0;
  for (const [k, s] of samples.entries()) { R += comps[k]!.count; for (const m of s.mask) if (!m) N++; }
  const xs = [0], ys = [0];
  for (const t of ts) {
    let fp = 0, pro = 0;
    for (const [k, s] of samples.entries()) {
      const hits = new Array(comps[k]!.count).fill(0);
      for (let p = 0; p < s.map.length; p++) {
        if (s.map[p]! < t) continue;
        const l = comps[k]!.labels[p]!;
        if (l === 0) fp++; else hits[l - 1]++;
      }
      hits.forEach((h, r) => (pro += h / comps[k]!.sizes[r]!));
    }
    xs.push(fp / N); ys.push(pro / R);
  }
  xs.push(1); ys.push(1);
  let area = 0, k = 1;
  for (; k < xs.length && xs[k]! <= limit; k++) area += (xs[k]! - xs[k - 1]!) * (ys[k]! + ys[k - 1]!) / 2;
  const x0 = xs[k - 1]!, y0 = ys[k - 1]!;
  if (x0 < limit) {
    const yi = y0 + (ys[k]! - y0) * (limit - x0) / (xs[k]! - x0);
    area += (limit - x0) * (yi + y0) / 2;
  }
  return area / limit;
}

test('AUPRO equals a brute-force per-threshold sweep on random maps with many ties', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 8; trial++) {
    const samples: PixelSample[] = [];
    for (let img = 0; img < 3; img++) {
      const w = 9 + img, h = 7;
      const mask = new Uint8Array(w * h);
      const map = new Float32Array(w * h);
      for (let p = 0; p < w * h; p++) {
        mask[p] = img === 0 ? 0 : rand() < 0.25 ? 1 : 0;
        map[p] = Math.round((rand() + (mask[p] ? 0.3 : 0)) * 12) / 12; // coarse → ties
      }
      samples.push({ map, mask, width: w, height: h });
    }
    for (const limit of [0.3, 0.05, 1]) {
      expect(aupro(samples, limit)).toBeCloseTo(bruteAupro(samples, limit), 10);
    }
  }
});

test('bad input: wrong sizes, NaN, no defect pixels, bad limit', () => {
  expect(() => pixelMetrics([{ ...hand, width: 5 }])).toThrow(/5×3 map and mask/);
  const nan = { ...hand, map: hand.map.slice() };
  nan.map[3] = NaN;
  expect(() => pixelMetrics([nan])).toThrow(/finite map values.*pixel 3/);
  expect(() => pixelMetrics([{ ...hand, mask: new Uint8Array(12) }])).toThrow(/0 defect and 12 normal/);
  expect(() => aupro([hand], 0)).toThrow(/fprLimit in \(0, 1\]/);
});
