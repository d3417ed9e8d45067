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
  const kept: number[] = [];
  for (let y = my; y < height - my; y++) for (let x = mx; x < width - mx; x++) kept.push(map[y * width + x]!);
  if (aggregation.kind === 'max') {
    let best = -Infinity;
    for (const v of kept) if (v > best) best = v;
    return best;
  }
  const sorted = kept.sort((p, q) => q - p);
  const k = Math.min(sorted.length, Math.max(1, Math.ceil(aggregation.fraction * sorted.length)));
  let sum = 0;
  for (let i = 0; i < k; i++) sum += sorted[i]!;
  return sum / k;
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
