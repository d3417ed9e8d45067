import { describe, expect, it } from 'vitest';
import { grayU8 } from '../../src/score/reference/gray.js';
import { edgeMapRef } from '../../src/score/reference/edge.js';
import { labPixel, rgbToLabRef } from '../../src/score/reference/lab.js';
import { boxMeanRef } from '../../src/score/reference/box.js';
import { msgmsRef } from '../../src/score/reference/msgms.js';
import { aggregateRef, fusedScoreRef } from '../../src/score/reference/fused.js';
import { regionsRef } from '../../src/score/reference/regions.js';
import { resolveScoringOptions } from '../../src/score/fused.js';
import { imagePair } from './helpers.js';

// Closed-form Lab of reference colours, computed by hand (Python, double precision, paper eqs. 8–12);
// they agree with the published sRGB/D65 values (red 53.24/80.09/67.20, …).
const LAB_REFERENCES: Array<[[number, number, number], [number, number, number]]> = [
  [[1, 1, 1], [100, 0, 0]],
  [[0, 0, 0], [0, 0, 0]],
  [[1, 0, 0], [53.2405879437, 80.0941668345, 67.2015369951]],
  [[0, 1, 0], [87.735099488, -86.181257511, 83.1774770685]],
  [[0, 0, 1], [32.295672565, 79.1870018039, -107.8617472521]],
  [[0.5, 0.5, 0.5], [53.3889647411, 0, 0]],
  [[0.02, 0.03, 0.01], [1.847835899, -1.3759893801, 1.6951632799]],
];

describe('TypeScript reference kernels', () => {
  it('Lab matches hand-computed reference colours within 1e-4', () => {
    for (const [rgb, lab] of LAB_REFERENCES) {
      const got = labPixel(...rgb);
      for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - lab[c]), `${rgb} channel ${c}`).toBeLessThan(1e-4);
      const f32 = rgbToLabRef(new Float32Array(rgb));
      for (let c = 0; c < 3; c++) expect(Math.abs(f32[c]! - lab[c])).toBeLessThan(1e-4);
    }
  });

  it('Lab clamps out-of-range reconstruction values', () => {
    expect(labPixel(1.4, 1.2, 3)[0]).toBeCloseTo(100, 10);
    expect(labPixel(-0.3, -1, 0)[0]).toBe(0);
  });

  it('uint8 gray is OpenCV fixed point; the edge map ignores outside pixels', () => {
    expect([grayU8(255, 0, 0), grayU8(0, 255, 0), grayU8(0, 0, 255), grayU8(255, 255, 255)]).toEqual([76, 150, 29, 255]);
    expect(Array.from(edgeMapRef(new Uint8Array([10, 50]), 2, 1, 1))).toEqual([40, 40]);
    const dot = new Uint8Array(25);
    dot[12] = 200;
    const e = edgeMapRef(dot, 5, 5, 1);
    expect(Array.from(e.slice(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(e.slice(5, 10))).toEqual([0, 200, 200, 200, 0]);
    const f = edgeMapRef(new Float32Array([1, 0, 0, 0, 0, 1]), 2, 1, 3);
    expect(f[0]).toBeCloseTo(0.299 - 0.114, 6);
  });

  it('box mean: valid keeps flat images flat, zero padding darkens corners', () => {
    const flat = new Float32Array(7 * 5).fill(0.5);
    expect(Math.max(...boxMeanRef(flat, 7, 5, 3, 'valid').map((v) => Math.abs(v - 0.5)))).toBeLessThan(1e-12);
    expect(boxMeanRef(flat, 7, 5, 3, 'zero')[0]).toBeCloseTo((0.5 * 4) / 9, 12);
    expect(boxMeanRef(new Float32Array([1, 2, 3]), 3, 1, 1, 'valid')).toEqual(new Float64Array([1, 2, 3]));
  });

  it('MSGMS of an image with itself is 1; a defect lowers it', () => {
    const { input, recon } = imagePair(32, 24, 3);
    const same = msgmsRef(input, input, 32, 24, 3, 0.0026);
    expect(Math.min(...same)).toBeCloseTo(1, 9);
    const diff = msgmsRef(input, recon, 32, 24, 3, 0.0026);
    expect(Math.min(...diff)).toBeLessThan(0.8);
  });

  it('fused score: 0 for identical images, higher where the reconstruction differs', () => {
    const { input, recon } = imagePair(40, 32, 5);
    const o = resolveScoringOptions({ scales: 3 });
    expect(fusedScoreRef(input, input, 40, 32, o).score).toBeCloseTo(0, 9);
    const { map, score } = fusedScoreRef(input, recon, 40, 32, o);
    expect(score).toBeGreaterThan(0.2);
    const inside = map[20 * 40 + 16]!; // inside the defect
    const outside = map[28 * 40 + 36]!;
    expect(inside).toBeGreaterThan(outside);
  });

  it('aggregation: max and top-k mean', () => {
    const map = [1, 5, 3, 4, 2];
    expect(aggregateRef(map, { kind: 'max' })).toBe(5);
    expect(aggregateRef(map, { kind: 'topk', fraction: 0.4 })).toBe(4.5);
    expect(aggregateRef(map, { kind: 'topk', fraction: 0.01 })).toBe(5);
    expect(aggregateRef(map, { kind: 'topk', fraction: 1 })).toBe(3);
  });

  it('aggregation margin: a border of the map is left out of the image score', () => {
    // 5×4 map; margin 0.2 drops floor(0.2·5) = 1 column and floor(0.2·4) = 0 rows at each side.
    // prettier-ignore
    const map = [
      9, 1, 2, 1, 8,
      7, 1, 3, 1, 6,
      9, 2, 1, 1, 9,
      9, 1, 4, 1, 9,
    ];
    expect(aggregateRef(map, { kind: 'max' }, 5, 4)).toBe(9);
    expect(aggregateRef(map, { kind: 'max', margin: 0.2 }, 5, 4)).toBe(4);
    expect(aggregateRef(map, { kind: 'topk', fraction: 0.25, margin: 0.2 }, 5, 4)).toBe(3); // top 3 of 12: 4, 3, 2
    expect(aggregateRef(map, { kind: 'max', margin: 0.3 }, 5, 4)).toBe(3); // 1 column and 1 row each side
  });

  it('regions: 8-connectivity, raster order, box/area/max/mean', () => {
    // prettier-ignore
    const m = new Float32Array([
      0.9, 0.8, 0, 0, 0, 0,
      0.7, 0,   0, 0, 0, 0,
      0,   0,   0, 0, 0, 0.6,
      0,   0,   0, 0, 0.5, 0,
      0,   0,   0, 0.5, 0, 0,
    ]);
    const r = regionsRef(m, 6, 5, 0.5);
    expect(r).toHaveLength(2);
    expect(r[0]).toMatchObject({ x: 0, y: 0, width: 2, height: 2, area: 3 });
    expect(r[0]!.maxScore).toBeCloseTo(0.9, 6);
    expect(r[0]!.meanScore).toBeCloseTo(0.8, 6);
    expect(r[1]).toMatchObject({ x: 3, y: 2, width: 3, height: 3, area: 3 });
    expect(regionsRef(m, 6, 5, 0.95)).toEqual([]);
  });
});
