/**
 * Whether a bundle normalises its map per position (score/position-norm.ts), chosen at export without test
 * labels: the statistics come from good *training* images, the choice from the held-out good images against
 * synthetic anomalies in copies of them — the same criterion (image AUROC) the scoring choice uses. It is kept
 * only if it separates them strictly better than the map without it.
 */
import { imageAuroc } from '../eval/metrics.js';
import type { FeatureFusion, PositionNorm, ScoringOptions } from '../model/manifest.js';
import { normGrid, positionStats } from '../score/position-norm.js';
import type { Scorable } from './select-scoring.js';

export interface PositionChoice {
  norm?: PositionNorm;
  /** Image AUROC on held-out good vs synthetic, without and with the normalisation. */
  auroc: { off: number; on: number };
  statsImages: number;
}

async function aurocOf(clean: Scorable[], anomalous: Scorable[], scoring: ScoringOptions, fusion?: FeatureFusion, norm?: PositionNorm): Promise<number> {
  const scores: number[] = [];
  for (const p of [...clean, ...anomalous]) scores.push((await p.score(scoring, fusion, norm)).score);
  return imageAuroc(scores, scores.map((_, i) => (i < clean.length ? 0 : 1)));
}

/** `train`: good training images (not the held-out slice), scorable like the held-out ones. */
export async function choosePositionNorm(o: {
  train: Scorable[];
  clean: Scorable[];
  anomalous: Scorable[];
  scoring: ScoringOptions;
  fusion?: FeatureFusion;
}): Promise<PositionChoice> {
  const maps = [];
  for (const t of o.train) maps.push(await t.score(o.scoring, o.fusion));
  const first = maps[0]!;
  const norm = positionStats(maps, normGrid(first.width, first.height));
  const off = await aurocOf(o.clean, o.anomalous, o.scoring, o.fusion);
  const on = await aurocOf(o.clean, o.anomalous, o.scoring, o.fusion, norm);
  return { ...(on > off ? { norm } : {}), auroc: { off, on }, statsImages: maps.length };
}
