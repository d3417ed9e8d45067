/**
 * The scoring a bundle gets, chosen without test labels (docs/training.md, "Scoring chosen on good images").
 *
 * Which scoring suits a product (how much of the broad shading to leave out, how much colour counts, whether the
 * outline belongs in the image score) differs per product, and choosing it on a labelled test set makes every
 * figure measured on that set optimistic. Here it is chosen on what training may use: the held-out good images
 * and synthetic anomalies pasted into copies of them by a generator seeded apart from training's. Each candidate
 * of a small grid scores both; the one that separates them best (image AUROC) wins, the paper's setting on ties.
 * Keys the user set in the train config are not searched.
 */
import { imageAuroc } from '../eval/metrics.js';
import type { FeatureFusion, PositionNorm, ScoringOptions } from '../model/manifest.js';
import { fusedScore, resolveScoringOptions } from '../score/fused.js';
import { finishMap } from '../score/feature-fusion.js';
import { aggregateRef } from '../score/reference/fused.js';
import { combineTiles } from '../score/tiled.js';
import type { TileLayout } from '../preprocess/tiles.js';
import { blendPerlinTexture, cutPasteRotated, type AugmentOptions } from './augment.js';
import { Rng } from './rng.js';

/** An input and the network's reconstruction of it, HWC float RGB in [0, 1] at the model size. */
export interface ReconstructedPair {
  input: Float32Array;
  recon: Float32Array;
  /** With a feature bank: the nearest-normal distance map at the bank's grid. */
  distance?: Float32Array;
}

/**
 * A reconstructed image that can be scored under any scoring (and, with a feature bank, any fusion): its map
 * (with its size) and image score.
 */
export interface Scorable {
  score(scoring: ScoringOptions, fusion?: FeatureFusion, norm?: PositionNorm): Promise<{ map: Float32Array; width: number; height: number; score: number }>;
  /** With a feature bank: the largest feature distance over the image (for the fusion's scale). */
  featureMax?: number;
}

const maxOf = (values: Float32Array[]): number => values.reduce((m, d) => d.reduce((a, v) => (v > a ? v : a), m), -Infinity);

/**
 * The fused maps of the last scoring asked for, kept: the search asks for the same scoring under many fusions
 * and normalisations in a row, and the fused maps are the costly part.
 */
function lastScoringCache(compute: (scoring: ScoringOptions) => Promise<Float32Array[]>): (scoring: ScoringOptions) => Promise<Float32Array[]> {
  let key = '';
  let maps: Float32Array[] = [];
  return async (scoring) => {
    const k = JSON.stringify(scoring);
    if (k !== key) {
      maps = await compute(scoring);
      key = k;
    }
    return maps;
  };
}

/** A whole-image pair at the model size. */
export function pairScorable(p: ReconstructedPair, size: number): Scorable {
  const { distance } = p;
  const base = lastScoringCache(async (scoring) => [(await fusedScore(p.input, p.recon, size, size, scoring)).map]);
  return {
    async score(scoring, fusion, norm) {
      const feature = fusion && distance ? { distance, fusion } : undefined;
      const r = finishMap((await base(scoring))[0]!, size, size, scoring, { ...(feature ? { feature } : {}), ...(norm ? { norm } : {}) });
      return { map: r.map, width: size, height: size, score: r.score };
    },
    ...(distance ? { featureMax: maxOf([distance]) } : {}),
  };
}

/**
 * A tiled image: per-tile inputs and reconstructions (and distance maps, with a feature bank) in the layout's
 * raster order, maps stitched (score/tiled.ts).
 */
export function tiledScorable(inputs: Float32Array[], recons: Float32Array[], layout: TileLayout, distances?: Float32Array[]): Scorable {
  const t = layout.tile;
  const base = lastScoringCache(async (scoring) => {
    const maps: Float32Array[] = [];
    for (let i = 0; i < inputs.length; i++) maps.push((await fusedScore(inputs[i]!, recons[i]!, t, t, scoring)).map);
    return maps;
  });
  return {
    async score(scoring, fusion, norm) {
      const features = fusion && distances ? { distances, fusion } : undefined;
      const r = combineTiles(await base(scoring), layout, scoring, { ...(features ? { features } : {}), ...(norm ? { norm } : {}) });
      return { map: r.map, width: layout.width, height: layout.height, score: r.score };
    },
    ...(distances ? { featureMax: maxOf(distances) } : {}),
  };
}

/** The keys searched and their values; the first value of each is the paper's. */
export interface ScoringGrid {
  shadingWindow: number[];
  mu: number[];
  margin: number[];
  /** The feature map's share α (score/feature-fusion.ts); searched only for a network with a feature bank. */
  alpha: number[];
}

export const DEFAULT_SCORING_GRID: ScoringGrid = {
  shadingWindow: [0, 9, 17, 33],
  mu: [0.001, 0.002, 0.005],
  margin: [0, 0.04, 0.08],
  alpha: [0, 0.25, 0.5, 0.75, 1],
};

export interface ScoringSelection {
  scoring: ScoringOptions;
  /** Image AUROC, held-out good vs synthetic anomalies, of the chosen scoring and of the paper's. */
  auroc: number;
  baseAuroc: number;
  candidates: number;
  /** What it was chosen on, for the manifest. */
  on: string;
  /** The keys searched (the others were fixed by the user or are the paper's). */
  searched: string[];
  /** The five best candidates, for the record. */
  top: { setting: Record<string, number>; auroc: number }[];
  /** With a feature bank: the chosen fusion (α, possibly 0, with both maps' scales on the good images). */
  fusion?: FeatureFusion;
}

/** Seed offset of the selection's anomaly generator: never the training stream's. */
const SELECTION_SEED = 0x5e1ec7;

/**
 * One synthetic anomaly per good image (alternately a Perlin texture blend and a rotated cut-paste; the texture
 * from the next image), retried until the image changed. Returns HWC float copies; `images` are left alone.
 */
export function syntheticAnomalies(
  images: Float32Array[],
  size: number | { width: number; height: number }[],
  augment: AugmentOptions,
  seed: number,
): Float32Array[] {
  const rng = new Rng((seed ^ SELECTION_SEED) >>> 0);
  const dims = (i: number) => (typeof size === 'number' ? { width: size, height: size } : size[i]!);
  return images.map((img, i) => {
    const { width, height } = dims(i);
    // the next image's surface as texture; of another size (tiled, mixed shapes), this image turned 180°
    const next = images[(i + 1) % images.length]!;
    const texture = next.length === img.length ? next : rotate180(img);
    for (let attempt = 0; attempt < 8; attempt++) {
      const out = img.slice();
      if (i % 2 === 0) {
        if (blendPerlinTexture(out, texture, width, height, rng, augment) === 0) continue;
      } else {
        cutPasteRotated(out, width, height, rng, augment);
      }
      if (out.some((v, k) => v !== img[k])) return out;
    }
    return img.slice(); // a flat image no generator can change: counted as it is
  });
}

/** An interleaved RGB image turned by 180° (pixel order reversed). */
function rotate180(img: Float32Array): Float32Array {
  const out = new Float32Array(img.length);
  const n = img.length / 3;
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[(n - 1 - p) * 3 + c] = img[p * 3 + c]!;
  return out;
}

type Grid = Partial<Record<keyof ScoringGrid, number[]>>;

/** The grid without the keys the user fixed (`fixed` holds the train config's scoring keys); α only with a feature bank. */
export function searchableGrid(fixed: { shadingWindow?: unknown; mu?: unknown; aggregation?: unknown }, grid: ScoringGrid = DEFAULT_SCORING_GRID, o: { featureBank?: boolean } = {}): Grid {
  const out: Grid = {};
  if (fixed.shadingWindow === undefined) out.shadingWindow = grid.shadingWindow;
  if (fixed.mu === undefined) out.mu = grid.mu;
  if (fixed.aggregation === undefined) out.margin = grid.margin;
  if (o.featureBank) out.alpha = grid.alpha; // the fusion exists only where the network has a feature bank
  return out;
}

/** Mean of the held-out good images' largest value: the scale that puts a map on the good images' footing. */
const meanMax = (values: number[]): number => Math.max(values.reduce((a, v) => a + v, 0) / values.length, 1e-12);

/**
 * Chooses the scoring from `clean` (held-out good) and `anomalous` (synthetic) images over `grid`. With a feature
 * bank (`grid.alpha` and every scorable's featureMax), the fusion's α is searched too, each map scaled by its
 * mean image maximum on the clean images.
 */
export async function selectScoring(o: {
  clean: Scorable[];
  anomalous: Scorable[];
  base: ScoringOptions;
  grid: Grid;
  /** The feature distance map's size (with a feature bank). */
  featureGrid?: { width: number; height: number };
}): Promise<ScoringSelection> {
  const pairs = [...o.clean, ...o.anomalous];
  const labels = pairs.map((_, i) => (i < o.clean.length ? 0 : 1));
  const shadings = o.grid.shadingWindow ?? [o.base.shadingWindow];
  const mus = o.grid.mu ?? [o.base.mu];
  const margins = o.grid.margin ?? [o.base.aggregation.margin ?? 0];
  const withFeatures = o.featureGrid !== undefined && pairs.every((p) => p.featureMax !== undefined);
  const alphas = withFeatures ? (o.grid.alpha ?? [0]) : [0];
  const featureScale = withFeatures ? meanMax(o.clean.map((p) => p.featureMax!)) : 1;
  const rows: { scoring: ScoringOptions; setting: Record<string, number>; auroc: number; fusion?: FeatureFusion }[] = [];
  for (const shadingWindow of shadings) {
    for (const mu of mus) {
      const mapped = resolveScoringOptions({ ...o.base, shadingWindow, mu });
      const plain = [];
      for (const p of pairs) plain.push(await p.score(mapped));
      const mapScale = meanMax(plain.slice(0, o.clean.length).map((m) => maxOf([m.map])));
      for (const alpha of alphas) {
        const fusion = withFeatures && alpha > 0 ? { alpha, mapScale, featureScale, grid: o.featureGrid! } : undefined;
        const maps = [];
        if (!fusion) maps.push(...plain);
        else for (const p of pairs) maps.push(await p.score(mapped, fusion));
        for (const margin of margins) {
          const aggregation = { ...mapped.aggregation, margin };
          const scores = maps.map((m) => aggregateRef(m.map, aggregation, m.width, m.height));
          const setting = { shadingWindow, mu, margin, ...(withFeatures ? { alpha } : {}) };
          rows.push({ scoring: { ...mapped, aggregation }, setting, auroc: imageAuroc(scores, labels), ...(fusion ? { fusion } : {}) });
        }
      }
    }
  }
  // the first row is the base (paper) setting; a strictly better one must win
  const best = rows.reduce((b, r) => (r.auroc > b.auroc ? r : b), rows[0]!);
  const top = [...rows].sort((a, b) => b.auroc - a.auroc).slice(0, 5).map(({ setting, auroc }) => ({ setting, auroc }));
  return {
    scoring: best.scoring,
    auroc: best.auroc,
    baseAuroc: rows[0]!.auroc,
    candidates: rows.length,
    on: `${o.clean.length} held-out good images vs ${o.anomalous.length} synthetic anomalies in copies of them (generator seed apart from training's); criterion image AUROC`,
    searched: [...Object.keys(o.grid).filter((k) => k !== 'alpha'), ...(withFeatures ? ['alpha'] : [])],
    top,
    ...(best.fusion ? { fusion: best.fusion } : {}),
  };
}
