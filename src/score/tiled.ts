/**
 * Scoring of a tiled frame (preprocess/tiles.ts): each tile's fused map is computed on the tile alone, exactly
 * as a whole frame is scored (so a bundle's scoring means the same tiled or not), the maps are averaged where
 * tiles overlap, and the image score aggregates the stitched map over the whole working image (its margin is
 * a border of the frame, not of each tile).
 */
import { featureDistanceAlone, type ScoringOptions } from '../model/manifest.js';
import type { ScoringEngine } from '../native.js';
import { stitchTiles, type TileLayout } from '../preprocess/tiles.js';
import { featureOnlyMap, fuseFeatureMap, needsImageMap, type FeatureFusion } from './feature-fusion.js';
import { FusedScorer } from './fused.js';
import { normalizeMap, type PositionNorm } from './position-norm.js';
import { aggregateRef } from './reference/fused.js';

export interface TiledScore {
  /** layout.width × layout.height. */
  map: Float32Array;
  score: number;
  engine: ScoringEngine;
}

/** A tiled bundle's additions: each tile's feature distance map and the fusion, a per-position normalisation. */
export interface TiledExtras {
  features?: { distances: Float32Array[]; fusion: FeatureFusion };
  norm?: PositionNorm;
}

/**
 * `inputs` and `recons`: per tile, HWC RGB at tile size, in the layout's raster order. `extras.features`: with a
 * feature bank, each tile's distance map and the bundle's fusion (each tile's map is fused before stitching);
 * `extras.norm`: the per-position normalisation, applied to the stitched map (its positions are the frame's).
 * `scoring`: options (validated here) or a FusedScorer (validated when it was made).
 */
export async function fusedScoreTiles(inputs: Float32Array[], recons: Float32Array[], layout: TileLayout, scoring: ScoringOptions | FusedScorer, extras: TiledExtras = {}): Promise<TiledScore> {
  const scorer = scoring instanceof FusedScorer ? scoring : new FusedScorer(scoring);
  const t = layout.tile;
  if (!needsImageMap(extras)) {
    // α = 1: the tiles' image-space maps have no weight in the result; refuse what scoring them would refuse
    inputs.forEach((input, i) => scorer.checkPair(input, recons[i]!, t, t));
    return { ...combineTiles(undefined, layout, scorer.options, extras), engine: scorer.engine };
  }
  const maps: Float32Array[] = [];
  let engine: ScoringEngine = 'typescript';
  for (let i = 0; i < inputs.length; i++) {
    const r = await scorer.score(inputs[i]!, recons[i]!, t, t);
    maps.push(r.map);
    engine = r.engine;
  }
  return { ...combineTiles(maps, layout, scorer.options, extras), engine };
}

/**
 * The tiles' fused maps (model size, raster order) made into the frame's map and score: each fused with its
 * feature distance, stitched, normalised per position, aggregated. Separate from fusedScoreTiles so that the
 * export's search rescores the same tile maps under many fusions without recomputing them. `maps` may be
 * undefined only where needsImageMap(extras) is false (α = 1).
 */
export function combineTiles(maps: Float32Array[] | undefined, layout: TileLayout, scoring: ScoringOptions, extras: TiledExtras = {}): { map: Float32Array; score: number } {
  const stitched = stitchTiles(fusedTiles(maps, layout.tile, extras.features), layout, 1);
  // stitchTiles returns a new array: normalise it in place
  const map = extras.norm ? normalizeMap(stitched, layout.width, layout.height, extras.norm, stitched) : stitched;
  return { map, score: aggregateRef(map, scoring.aggregation, layout.width, layout.height) };
}

/** Each tile's A': its image-space map, the fusion with its distance map, or (α = 1) its distance map alone. */
function fusedTiles(maps: Float32Array[] | undefined, t: number, features: TiledExtras['features']): Float32Array[] {
  if (features && featureDistanceAlone(features.fusion)) return features.distances.map((d) => featureOnlyMap(t, t, d, features.fusion));
  if (!maps) throw new RangeError('combineTiles needs the tiles\' image-space maps unless the fusion has α = 1');
  return features ? maps.map((m, i) => fuseFeatureMap(m, t, t, features.distances[i]!, features.fusion)) : maps;
}
