/**
 * Default thresholds from the held-out validation slice of good images (docs/training.md, "Thresholds"):
 *   image = max(validation image scores) + 10 % of (max − median)   — no validation image is flagged, with a margin;
 *   pixel = 99.9th percentile of all validation map pixels           — regions rarely light up on good images.
 * A rule on good images only; `calibrate` with labelled defects (EVAL) replaces it when such images exist.
 */
import type { ScoringOptions, Thresholds } from '../model/manifest.js';
import { fusedScore } from '../score/fused.js';

export interface ValidationScores {
  scores: number[];
  /** Every map pixel of every validation image (subsampled when large). */
  pixels: Float32Array;
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Scores validation pairs (HWC input and reconstruction) with the bundle's scoring options. */
export async function scoreValidation(
  pairs: { input: Float32Array; recon: Float32Array }[],
  size: number,
  scoring: ScoringOptions,
): Promise<ValidationScores> {
  const scores: number[] = [];
  const maps: Float32Array[] = [];
  for (const p of pairs) {
    const { map, score } = await fusedScore(p.input, p.recon, size, size, scoring);
    scores.push(score);
    maps.push(map);
  }
  // at most ~1M pixels: enough for a 99.9th percentile, bounded memory for large validation slices
  const total = maps.reduce((s, m) => s + m.length, 0);
  const stride = Math.max(1, Math.floor(total / 1_000_000));
  const pixels = new Float32Array(Math.ceil(total / stride));
  let k = 0;
  let i = 0;
  for (const m of maps) for (const v of m) if (i++ % stride === 0 && k < pixels.length) pixels[k++] = v;
  return { scores, pixels: pixels.subarray(0, k) };
}

export function thresholdsFromValidation(v: ValidationScores): Thresholds {
  const scores = [...v.scores].sort((a, b) => a - b);
  const max = scores[scores.length - 1]!;
  const median = quantile(scores, 0.5);
  const image = max + 0.1 * (max - median);
  const pixels = Float32Array.from(v.pixels).sort();
  const pixel = quantile(pixels, 0.999);
  return {
    image,
    pixel,
    source: `train validation (${scores.length} held-out good images): image = max + 10% (max − median), pixel = p99.9 of map pixels`,
  };
}
