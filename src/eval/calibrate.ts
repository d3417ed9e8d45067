import { basename, extname, join } from 'node:path';
import { MmaerecError } from '../errors.js';
import { loadBundle, MANIFEST_FILE, writeManifestFile } from '../model/bundle.js';
import { manifestSchema, type Thresholds } from '../model/manifest.js';
import type { EvalAnalyzer } from './analyzer.js';
import { readDataset } from './dataset.js';
import type { MaskResize } from './mask.js';
import { sortFloat32 } from './radix.js';
import { bestF1FromSorted, bestF1Threshold, percentile } from './metrics.js';
import { scoreImages, type ScoredImage } from './score-dataset.js';
import { thresholdRates } from './summarize.js';
import { falseAlarmThreshold, formatRate, type FalseAlarmThreshold } from './false-alarm.js';
import { consistentPixelThreshold } from '../train/calibrate.js';

/** A dataset folder as recorded in a manifest: its last two path parts, never a path of this machine. */
const label = (root: string): string => root.split(/[\\/]/).filter(Boolean).slice(-2).join('/');

/**
 * Threshold calibration. Three rules:
 * - 'false-alarm' (the default): from good images only — the image threshold for a stated false-alarm rate
 *   (`rate`, default 1 %), from the good scores' fitted tail with its uncertainty (false-alarm.ts); the pixel
 *   threshold is the `pixelTarget` percentile of good map values. What a plant asks for: a false-alarm budget.
 * - 'f1': from labelled data (test/good + test/<defect>): the image threshold of best F1 over image scores and
 *   the pixel threshold of best F1 over the pixels of the masked images (each the midpoint of the winning gap,
 *   see bestF1Threshold).
 * - 'good-percentile': from good images only (test/good, or train/good with split 'train'):
 *   threshold = q + margin·(q − median), where q is the `target` percentile of the good image scores (default
 *   99.5) — for pixels, the `pixelTarget` percentile (default 99.9) of all good-image map values. The margin
 *   (default 0.1) is scale- and offset-free: 10 % of the distance from the median to q, a cushion for good
 *   images a little worse than any seen. Defective images, when present, are scored too — only to report the
 *   expected miss rate; they do not move the threshold.
 * Every rule keeps the pixel threshold at or below the image threshold (otherwise a frame could be DEFECT with
 * no region) and warns when it lowers it, and warns when a percentile rests on too few good images.
 * Then the thresholds go into the bundle's manifest (rewritten atomically; its sha256 — the bundle's identity
 * in results and events — changes), and the expected false-alarm and miss rates on the data seen are reported.
 */
export type CalibrationRule = 'false-alarm' | 'f1' | 'good-percentile';

export interface CalibrateOptions {
  analyzer: EvalAnalyzer;
  /** Bundle directory whose manifest receives the thresholds. */
  bundle: string;
  data: string;
  rule?: CalibrationRule;
  /** False-alarm rate the image threshold targets (false-alarm rule), a fraction. Default 0.01. */
  rate?: number;
  /** Percentile of good image scores (good-percentile). Default 99.5. */
  target?: number;
  /** Percentile of good pixel values (good-percentile). Default 99.9. */
  pixelTarget?: number;
  /** Margin as a fraction of (percentile − median) (good-percentile). Default 0.1. */
  margin?: number;
  /** Which good images the good-image rules (false-alarm, good-percentile) use. Default 'test'. */
  split?: 'test' | 'train';
  limit?: number;
  maskResize?: MaskResize;
  /** Compute and report, but leave the manifest unchanged. */
  dryRun?: boolean;
  progress?: boolean;
}

export interface Rates {
  /** Fraction of good images (pixels) at or above the threshold; null when there were none. */
  falseAlarmRate: number | null;
  /** Fraction of defective images (defect pixels) below the threshold; null when there were none. */
  missRate: number | null;
}

export interface CalibrationResult {
  thresholds: Thresholds;
  rule: CalibrationRule;
  images: { good: number; defective: number };
  expected: { image: Rates; pixel: Rates };
  /** sha256 of manifest.json before and after (equal on a dry run). */
  manifestSha256: { before: string; after: string };
  written: boolean;
  /** What the user must know about these thresholds (too few images, a pixel threshold lowered). */
  warnings: string[];
}

/** calibrate's defaults (its CLI flags' defaults too). */
export const CALIBRATE_DEFAULTS = { rule: 'false-alarm', rate: 0.01, target: 99.5, pixelTarget: 99.9, margin: 0.1 } as const;

/**
 * The image threshold `rule` sets from scored images (good ones: the false-alarm and good-percentile rules;
 * labelled ones: f1) — the one computation calibrate and the evaluation report's threshold marks share.
 * Undefined where the images cannot support the rule (fewer than 4 good for false-alarm, no defects for f1).
 */
export function imageThresholdFor(
  rule: CalibrationRule, scored: readonly ScoredImage[], params: { rate: number; target: number; margin: number } = CALIBRATE_DEFAULTS,
): { threshold: number; warning?: string; operatingPoint?: FalseAlarmThreshold } | undefined {
  const goodScores = scored.filter((s) => s.image.label === 0).map((s) => s.score);
  if (rule === 'false-alarm') {
    if (goodScores.length < 4) return undefined;
    const op = falseAlarmThreshold(goodScores, params.rate);
    return { threshold: op.threshold, operatingPoint: op, ...(op.warning ? { warning: op.warning } : {}) };
  }
  if (rule === 'f1') {
    if (goodScores.length === 0 || goodScores.length === scored.length) return undefined;
    return { threshold: bestF1Threshold(scored.map((s) => s.score), scored.map((s) => s.image.label)).threshold };
  }
  if (goodScores.length === 0) return undefined;
  return { threshold: percentileWithMargin(goodScores, params.target, params.margin) };
}

function pixelSplit(scored: ScoredImage[]): { pos: Float32Array; neg: Float32Array } {
  let p = 0;
  let n = 0;
  const withMask = scored.filter((s) => s.mask);
  for (const s of withMask) for (const m of s.mask!) m ? p++ : n++;
  const pos = new Float32Array(p);
  const neg = new Float32Array(n);
  p = n = 0;
  for (const s of withMask) {
    const { map, mask } = s;
    for (let q = 0; q < map.length; q++) {
      if (mask![q]) pos[p++] = map[q]!;
      else neg[n++] = map[q]!;
    }
  }
  return { pos: sortFloat32(pos), neg: sortFloat32(neg) };
}

function countAbove(sorted: Float32Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/** Good-percentile with margin: q + margin·(q − median). */
export function percentileWithMargin(values: ArrayLike<number>, target: number, margin: number): number {
  const q = percentile(values, target);
  return q + margin * (q - percentile(values, 50));
}

/** Writes new thresholds into a bundle's manifest.json (validated, atomic), then reloads it to check the hashes. */
export async function writeThresholds(bundleDir: string, thresholds: Thresholds, calibration: Record<string, unknown>): Promise<string> {
  const bundle = await loadBundle(bundleDir);
  const manifest = manifestSchema.parse({
    ...bundle.manifest,
    thresholds,
    provenance: { ...bundle.manifest.provenance, calibration },
  });
  const path = join(bundle.dir, MANIFEST_FILE);
  try {
    await writeManifestFile(bundle.dir, manifest);
  } catch (err) {
    throw new MmaerecError('E_IO', `cannot rewrite ${path} (${(err as Error).message}): make the bundle folder writable`, { cause: err });
  }
  return (await loadBundle(bundleDir)).sha256;
}

export async function calibrate(options: CalibrateOptions): Promise<CalibrationResult> {
  const rule = options.rule ?? CALIBRATE_DEFAULTS.rule;
  const rate = options.rate ?? CALIBRATE_DEFAULTS.rate;
  const target = options.target ?? CALIBRATE_DEFAULTS.target;
  const pixelTarget = options.pixelTarget ?? CALIBRATE_DEFAULTS.pixelTarget;
  const margin = options.margin ?? CALIBRATE_DEFAULTS.margin;
  for (const [name, v] of [['target', target], ['pixel target', pixelTarget]] as const) {
    if (!(v > 0 && v <= 100)) throw new MmaerecError('E_CONFIG', `--${name.replace(' ', '-')} ${v} is not a percentile: give a number in (0, 100], e.g. 99.5`);
  }
  if (!(rate > 0 && rate < 0.5)) throw new MmaerecError('E_CONFIG', `--rate ${rate} is not a false-alarm rate: give a fraction in (0, 0.5), e.g. 0.01 for 1 %`);
  if (!(margin >= 0)) throw new MmaerecError('E_CONFIG', `--margin ${margin} is negative: give a fraction ≥ 0, e.g. 0.1`);
  if (rule === 'f1' && options.split === 'train') {
    throw new MmaerecError('E_CONFIG', '--split train applies to the good-image rules (train/ has no defective images): drop --split or use --rule false-alarm');
  }
  const before = (await loadBundle(options.bundle)).sha256;
  const split = rule === 'f1' ? 'test' : (options.split ?? 'test');
  const dataset = await readDataset(options.data, { require: split, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
  const images =
    split === 'train'
      ? dataset.trainGood.map((path) => {
          const stem = basename(path, extname(path));
          return { key: `train/${stem}`, defect: 'good', stem, path, label: 0 as const };
        })
      : dataset.test;
  const scored = await scoreImages(options.analyzer, images, {
    maskResize: options.maskResize ?? 'nearest',
    ...(options.progress !== false ? { progress: 'calibrate' } : {}),
  });
  const good = scored.filter((s) => s.image.label === 0);
  const defective = scored.filter((s) => s.image.label === 1);
  if (good.length === 0) throw new MmaerecError('E_DATA', `${dataset.root} has no good images in the ${split} split: calibration needs defect-free images`);
  const { pos, neg } = pixelSplit(scored);

  let image: number;
  let pixel: number;
  let source: string;
  const warnings: string[] = [];
  let operatingPoint: Thresholds['operatingPoint'];
  const goodPixelThreshold = (): number => {
    const goodPixels = new Float32Array(good.reduce((n, s) => n + s.map.length, 0));
    let o = 0;
    for (const s of good) { goodPixels.set(s.map, o); o += s.map.length; }
    return rule === 'good-percentile' ? percentileWithMargin(goodPixels, pixelTarget, margin) : percentile(goodPixels, pixelTarget);
  };
  if (rule === 'false-alarm') {
    if (good.length < 4) throw new MmaerecError('E_DATA', `${dataset.root} ${split}/good has ${good.length} image(s): a false-alarm threshold needs at least 4 good images (20 or more for a useful one); add good images`);
    const chosen = imageThresholdFor('false-alarm', scored, { rate, target, margin })!;
    const op = chosen.operatingPoint!;
    if (chosen.warning) warnings.push(chosen.warning);
    image = chosen.threshold;
    pixel = goodPixelThreshold();
    operatingPoint = {
      rule: 'false-alarm', falseAlarmRate: rate, method: op.method, images: op.images, exceedances: op.exceedances,
      rateInterval95: op.rateInterval95, thresholdRange90: op.thresholdRange90,
    };
    source = `calibrate --rule false-alarm ${formatRate(rate)} (${op.method}; pixels p${pixelTarget}) on ${label(dataset.root)} ${split}/good (${good.length} images)`;
  } else if (rule === 'f1') {
    if (defective.length === 0) throw new MmaerecError('E_DATA', `${dataset.root} has no defective test images: --rule f1 needs labelled defects; use --rule good-percentile`);
    image = imageThresholdFor('f1', scored)!.threshold;
    if (pos.length === 0) throw new MmaerecError('E_DATA', `${dataset.root} has no defect masks: --rule f1 needs ground_truth/<defect>/<stem>_mask.png for the pixel threshold; use --rule good-percentile`);
    pixel = bestF1FromSorted(pos, neg).threshold;
    source = `calibrate --rule f1 on ${label(dataset.root)} (${good.length} good, ${defective.length} defective; chosen on these labels)`;
  } else {
    image = imageThresholdFor('good-percentile', scored, { rate, target, margin })!.threshold;
    pixel = goodPixelThreshold();
    const needed = Math.ceil(100 / (100 - target));
    if (good.length < needed) {
      warnings.push(`the image threshold's p${target} rests on ${good.length} good image(s) (it needs ≥ ${needed} to be more than their maximum): add good images or use --rule false-alarm --rate <fraction>`);
    }
    source = `calibrate --rule good-percentile p${target} (pixels p${pixelTarget}) + ${margin}·(p − median) on ${label(dataset.root)} ${split}/good (${good.length} images)`;
  }
  const capped = consistentPixelThreshold(image, pixel);
  if (capped.warning) warnings.push(capped.warning);
  pixel = capped.pixel;
  const imageRates = thresholdRates(scored, image);
  const expected = {
    image: { falseAlarmRate: imageRates.falsePositiveRate, missRate: imageRates.missRate },
    pixel: {
      falseAlarmRate: neg.length ? countAbove(neg, pixel) / neg.length : null,
      missRate: pos.length ? 1 - countAbove(pos, pixel) / pos.length : null,
    },
  };
  const thresholds: Thresholds = { image, pixel, source, ...(operatingPoint ? { operatingPoint } : {}) };
  let after = before;
  if (!options.dryRun) {
    after = await writeThresholds(options.bundle, thresholds, {
      rule, data: label(dataset.root), split, images: { good: good.length, defective: defective.length },
      ...(rule === 'good-percentile' ? { target, pixelTarget, margin } : {}),
      ...(rule === 'false-alarm' ? { rate, pixelTarget } : {}),
      warnings,
      expected, at: new Date().toISOString(),
    });
  }
  return { thresholds, rule, images: { good: good.length, defective: defective.length }, expected, manifestSha256: { before, after }, written: !options.dryRun, warnings };
}
