import type { ScoringOptions } from '../../model/manifest.js';
import { boxMeanRef } from './box.js';
import { labPixel } from './lab.js';
import { msgmsRef } from './msgms.js';
import { transferShadingRef } from './shading.js';

/** ΔE² = ΔL² + Δa² + Δb² per pixel, from the closed-form Lab of both images. */
export function colorDistanceRef(input: Float32Array, recon: Float32Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const p = labPixel(input[3 * i], input[3 * i + 1], input[3 * i + 2]);
    const q = labPixel(recon[3 * i], recon[3 * i + 1], recon[3 * i + 2]);
    out[i] = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2;
  }
  return out;
}

/**
 * The image score: max of the map, or the mean of its ceil(fraction·n) largest values (at least one), over the
 * map without `margin`·width columns and `margin`·height rows at each side (rounded down, so a margin never
 * removes every pixel: margin < 0.5).
 */
export function aggregateRef(map: ArrayLike<number>, aggregation: ScoringOptions['aggregation'], width = map.length, height = 1): number {
  const mx = Math.floor((aggregation.margin ?? 0) * width);
  const my = Math.floor((aggregation.margin ?? 0) * height);
  if (aggregation.kind === 'max') return keptMax(map, width, height, mx, my);
  const kept = keptValues(map, width, height, mx, my).sort(); // ascending: the largest are at the end
  const k = Math.min(kept.length, Math.max(1, Math.ceil(aggregation.fraction * kept.length)));
  let sum = 0;
  // largest first, the order the sum had when the values were sorted descending (the same rounding)
  for (let i = kept.length - 1; i >= kept.length - k; i--) sum += kept[i]!;
  return sum / k;
}

/** Max over the map without the margins: one pass, nothing allocated (it runs on every frame). */
function keptMax(map: ArrayLike<number>, width: number, height: number, mx: number, my: number): number {
  let best = -Infinity;
  for (let y = my; y < height - my; y++) {
    const row = y * width;
    for (let x = mx; x < width - mx; x++) {
      const v = map[row + x]!;
      if (v > best) best = v;
    }
  }
  return best;
}

/** Scratch for the top-k sort, grown to the largest map seen: a frame's aggregation allocates nothing. */
let keptScratch = new Float64Array(0);

/**
 * The values inside the margins, copied into keptScratch (float64 holds any map's values exactly); valid until
 * the next call. Synchronous, so no other aggregation can reuse the scratch meanwhile.
 */
function keptValues(map: ArrayLike<number>, width: number, height: number, mx: number, my: number): Float64Array {
  const n = Math.max(0, width - 2 * mx) * Math.max(0, height - 2 * my);
  if (keptScratch.length < n) keptScratch = new Float64Array(n);
  const kept = keptScratch.subarray(0, n);
  let j = 0;
  for (let y = my; y < height - my; y++) for (let x = mx; x < width - mx; x++) kept[j++] = map[y * width + x]!;
  return kept;
}

/**
 * The fused map of method.md §6, A = (1 − box_structure(MSGMS)) + μ·box_color(ΔE²), and its score, after the
 * shading transfer when `shadingWindow` > 0. Assumes validated arguments (see score/fused.ts).
 */
export function fusedScoreRef(
  input: Float32Array,
  recon: Float32Array,
  width: number,
  height: number,
  o: ScoringOptions,
): { map: Float32Array; score: number } {
  if (o.shadingWindow > 0) recon = transferShadingRef(input, recon, width, height, o.shadingWindow);
  const structure = boxMeanRef(msgmsRef(input, recon, width, height, o.scales, o.c), width, height, o.structureWindow, o.border);
  const color = boxMeanRef(colorDistanceRef(input, recon, width, height), width, height, o.colorWindow, o.border);
  const map = new Float32Array(width * height);
  for (let i = 0; i < map.length; i++) map[i] = 1 - structure[i] + o.mu * color[i];
  return { map, score: aggregateRef(map, o.aggregation, width, height) };
}
