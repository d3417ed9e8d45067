/**
 * Fusion of the image-space map with the feature-level map of a bundle with a feature bank (docs/architecture.md,
 * "Feature distance"). The network's `featureDistance` output (distance of each stride-8 patch to its nearest
 * normal bank item) is resized to the map's size and mixed with the fused MSGMS + CIELAB map:
 *
 *   A' = (1 − α) · A / s_A + α · up(D) / s_D
 *
 * s_A and s_D put both on the scale of good images (each the mean image maximum on the held-out good images), α
 * is chosen at export on held-out good images against synthetic anomalies — never on test labels. Thresholds,
 * regions and heatmaps then work on A' as on any map.
 */
import { featureDistanceAlone, type FeatureFusion, type PositionNorm, type ScoringOptions } from '../model/manifest.js';
import type { ScoringEngine } from '../native.js';
import { FusedScorer } from './fused.js';
import { normalizeMap } from './position-norm.js';
import { aggregateRef } from './reference/fused.js';

export type { FeatureFusion };

/**
 * Bilinear resize of a single-channel map with half-pixel centres (ONNX Resize "half_pixel", tf resizeBilinear
 * halfPixelCenters), edges clamped.
 */
export function resizeBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  const sx = sw / dw;
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Checks that a run's distance map has the fusion's grid size. */
function assertDistanceGrid(distance: Float32Array, fusion: FeatureFusion): void {
  const { grid } = fusion;
  if (distance.length !== grid.width * grid.height) {
    throw new RangeError(`Expected a ${grid.width}×${grid.height} feature distance map (${grid.width * grid.height} values) but received ${distance.length}`);
  }
}

/** A' for one model-size map (width × height) and its distance map (fusion.grid); a new array. */
export function fuseFeatureMap(map: Float32Array, width: number, height: number, distance: Float32Array, fusion: FeatureFusion): Float32Array {
  assertDistanceGrid(distance, fusion);
  const up = resizeBilinear(distance, fusion.grid.width, fusion.grid.height, width, height);
  const a = (1 - fusion.alpha) / fusion.mapScale;
  const d = fusion.alpha / fusion.featureScale;
  for (let i = 0; i < up.length; i++) up[i] = a * map[i]! + d * up[i]!;
  return up;
}

/**
 * A' when α = 1: up(D) / s_D alone, equal to fuseFeatureMap's for any finite image-space map (its weight 1 − α is
 * 0, and 0·A + x = x), without needing A at all. A new array.
 */
export function featureOnlyMap(width: number, height: number, distance: Float32Array, fusion: FeatureFusion): Float32Array {
  assertDistanceGrid(distance, fusion);
  const up = resizeBilinear(distance, fusion.grid.width, fusion.grid.height, width, height);
  const d = fusion.alpha / fusion.featureScale;
  for (let i = 0; i < up.length; i++) up[i] = d * up[i]!;
  return up;
}

/**
 * Whether the image-space map (MSGMS + CIELAB) has any weight in the final map: not when the fusion's α is 1 (the
 * label-free choice on magnetic tile, and on BSData without memory), where computing it — the largest part of scoring — would be wasted.
 */
export function needsImageMap(extras: { feature?: { fusion: FeatureFusion }; features?: { fusion: FeatureFusion } }): boolean {
  const fusion = extras.feature?.fusion ?? extras.features?.fusion;
  return !featureDistanceAlone(fusion);
}

/** A feature bank's part of a scoring: the run's distance map and the bundle's fusion. */
export interface FeatureInput {
  distance: Float32Array;
  fusion: FeatureFusion;
}

/** What a bundle adds to the fused map: a feature bank's distance map and fusion, a per-position normalisation. */
export interface MapExtras {
  feature?: FeatureInput;
  norm?: PositionNorm;
}

/**
 * The fused score of one model-size pair, with the feature-level map mixed in and the map normalised per position
 * when `extras` says so: the image score is then aggregated over the final map (the bundle's aggregation).
 * With α = 1 the image-space map is not computed (needsImageMap): the result is the same.
 * `scoring`: options (validated on this call) or a FusedScorer (validated when it was made).
 */
export async function fusedScoreWithFeatures(
  input: Float32Array,
  recon: Float32Array,
  width: number,
  height: number,
  scoring: ScoringOptions | FusedScorer,
  extras: MapExtras = {},
): Promise<{ map: Float32Array; score: number; engine: ScoringEngine }> {
  const scorer = scoring instanceof FusedScorer ? scoring : new FusedScorer(scoring);
  if (!needsImageMap(extras)) {
    scorer.checkPair(input, recon, width, height);
    return { ...finishMap(undefined, width, height, scorer.options, extras), engine: scorer.engine };
  }
  const r = await scorer.score(input, recon, width, height);
  if (!extras.feature && !extras.norm) return r;
  return { ...finishMap(r.map, width, height, scorer.options, extras), engine: r.engine };
}

/**
 * A fused map with the extras applied (fusion, then normalisation) and its image score; `map` is left alone.
 * `map` may be undefined only where needsImageMap(extras) is false (α = 1: it has no weight).
 */
export function finishMap(map: Float32Array | undefined, width: number, height: number, scoring: ScoringOptions, extras: MapExtras): { map: Float32Array; score: number } {
  const out = fusedWithFeature(map, width, height, extras.feature);
  // a fused map is this call's own array and can be normalised in place; the caller's `map` cannot
  const normalised = !extras.norm ? out : normalizeMap(out, width, height, extras.norm, out !== map ? out : undefined);
  return { map: normalised, score: aggregateRef(normalised, scoring.aggregation, width, height) };
}

/** A' of finishMap: the image-space map, the fusion of both, or (α = 1) the feature map alone. */
function fusedWithFeature(map: Float32Array | undefined, width: number, height: number, feature: FeatureInput | undefined): Float32Array {
  if (feature && featureDistanceAlone(feature.fusion)) return featureOnlyMap(width, height, feature.distance, feature.fusion);
  if (!map) throw new RangeError('finishMap needs the image-space map unless the fusion has α = 1');
  return feature ? fuseFeatureMap(map, width, height, feature.distance, feature.fusion) : map;
}
