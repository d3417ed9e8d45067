import type { Thresholds } from '../model/manifest.js';

/** The thresholds applied to a frame, with where they came from (for provenance in logs and events). */
export interface ThresholdsInForce {
  /** Image score at or above which the frame is a defect. */
  image: number;
  /** Map value at or above which a pixel belongs to a defect region. */
  pixel: number;
  /** The bundle's `thresholds.source`, or "override" when options replaced a value. */
  source: string;
}

/** Bundle thresholds, with per-deployment overrides (a line may run stricter than the calibration). */
export function thresholdsInForce(bundle: Thresholds, overrides?: { image?: number; pixel?: number }): ThresholdsInForce {
  const image = overrides?.image ?? bundle.image;
  const pixel = overrides?.pixel ?? bundle.pixel;
  for (const [name, v] of [['thresholds.image', image], ['thresholds.pixel', pixel]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Expected a finite number for ${name} but received ${String(v)}`);
  }
  const overridden = overrides?.image !== undefined || overrides?.pixel !== undefined;
  return { image, pixel, source: overridden ? `override (bundle: ${bundle.source})` : bundle.source };
}

/** `defect` when the image score reaches the threshold (>=, as calibration picks the threshold from scores). */
export function verdictFor(score: number, imageThreshold: number): 'ok' | 'defect' {
  return score >= imageThreshold ? 'defect' : 'ok';
}
