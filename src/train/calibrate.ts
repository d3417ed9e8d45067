/**
 * Default thresholds from the held-out validation slice of good images (docs/training.md, "Thresholds"):
 *   image = the threshold for a stated false-alarm rate (default 1 %), from the good scores' fitted tail
 *           (eval/false-alarm.ts: Gumbel by quartiles, or the order statistic when the slice is large);
 *   pixel = 99.9th percentile of all validation map pixels, but never above the image threshold — a frame
 *           flagged DEFECT always has at least one region (its maximum pixel reaches the image threshold).
 * A rule on good images only; `calibrate` with labelled defects (EVAL) replaces it when such images exist.
 */
import { falseAlarmThreshold, formatRate, quantileSorted, type FalseAlarmThreshold } from '../eval/false-alarm.js';
import type { FeatureFusion, PositionNorm, ScoringOptions, Thresholds } from '../model/manifest.js';
import type { Scorable } from './select-scoring.js';

export interface ValidationScores {
  scores: number[];
  /** Every map pixel of every validation image (subsampled when large). */
  pixels: Float32Array;
}

/** The default false-alarm rate a freshly trained bundle is calibrated for. */
export const DEFAULT_FALSE_ALARM_RATE = 0.01;

/** Scores the validation images (whole or tiled: select-scoring.ts Scorable) with the bundle's scoring options. */
export async function scoreValidation(items: Scorable[], scoring: ScoringOptions, fusion?: FeatureFusion, norm?: PositionNorm): Promise<ValidationScores> {
  const scores: number[] = [];
  const maps: Float32Array[] = [];
  for (const item of items) {
    const { map, score } = await item.score(scoring, fusion, norm);
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

/** Thresholds and the warnings a user must see (too few images for the target, a pixel threshold lowered). */
export interface ValidationThresholds {
  thresholds: Thresholds;
  /** Absent when the slice was too small to estimate a rate. */
  operatingPoint?: FalseAlarmThreshold;
  warnings: string[];
}

/**
 * A pixel threshold above the image threshold lets a frame be DEFECT with no region: cap it (and say so).
 * Returns the pixel threshold in force and the warning, if any.
 */
export function consistentPixelThreshold(image: number, pixel: number): { pixel: number; warning?: string } {
  if (pixel <= image) return { pixel };
  return {
    pixel: image,
    warning: `the pixel threshold ${pixel.toPrecision(4)} was above the image threshold ${image.toPrecision(4)} (a DEFECT frame could have no region): lowered to the image threshold`,
  };
}

/** Below this many held-out images no tail can be fitted (no quartiles): the maximum plus a margin stands in. */
const MIN_IMAGES_FOR_RATE = 4;

function fewImagesThresholds(v: ValidationScores, pixel: number): ValidationThresholds {
  const scores = [...v.scores].sort((a, b) => a - b);
  const max = scores[scores.length - 1]!;
  const image = max + 0.1 * (max - quantileSorted(scores, 0.5));
  const capped = consistentPixelThreshold(image, pixel);
  const warnings = [
    `only ${scores.length} held-out good image(s): no false-alarm rate can be estimated, the image threshold is their maximum + 10 % of (max − median); train on more images or raise validationFraction, or run calibrate --rule false-alarm on more good images`,
    ...(capped.warning ? [capped.warning] : []),
  ];
  return {
    thresholds: { image, pixel: capped.pixel, source: `train validation (${scores.length} held-out good images): image = max + 10% (max − median), pixel = p99.9 of map pixels` },
    warnings,
  };
}

export function thresholdsFromValidation(v: ValidationScores, falseAlarmRate = DEFAULT_FALSE_ALARM_RATE): ValidationThresholds {
  const pixels = Float32Array.from(v.pixels).sort();
  if (v.scores.length < MIN_IMAGES_FOR_RATE) return fewImagesThresholds(v, quantileSorted(pixels, 0.999));
  const op = falseAlarmThreshold(v.scores, falseAlarmRate);
  const capped = consistentPixelThreshold(op.threshold, quantileSorted(pixels, 0.999));
  const warnings = [op.warning, capped.warning].filter((w): w is string => w !== undefined);
  const [lo, hi] = op.rateInterval95;
  return {
    thresholds: {
      image: op.threshold,
      pixel: capped.pixel,
      source:
        `train validation (${op.images} held-out good images): image = ${formatRate(falseAlarmRate)} false alarms (${op.method}; ` +
        `${op.exceedances}/${op.images} at or above, 95 % range of the rate ${formatRate(lo)}–${formatRate(hi)}), ` +
        `pixel = p99.9 of map pixels${capped.warning ? ', capped at the image threshold' : ''}`,
      operatingPoint: {
        rule: 'false-alarm', falseAlarmRate, method: op.method, images: op.images, exceedances: op.exceedances,
        rateInterval95: op.rateInterval95, thresholdRange90: op.thresholdRange90,
      },
    },
    operatingPoint: op,
    warnings,
  };
}
