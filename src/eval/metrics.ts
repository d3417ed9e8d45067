/**
 * Binary ranking metrics over scores and 0/1 labels (image level, or any flat set of values):
 * ROC AUC, sklearn's step-wise average precision, the ROC / precision–recall curves and the best-F1 threshold.
 *
 * Exactness: values are sorted once (positives and negatives separately, with the engine's native typed-array
 * sort), then merged from the highest score down. One curve point is emitted per DISTINCT score, so tied scores
 * move TP and FP together (the ROC diagonal step sklearn draws), never in input order.
 * Pixel-level metrics (which also need ground-truth regions) live in `pixel-metrics.ts`.
 */

/** Scores of any numeric array type; labels are 0 (normal) or 1 (anomalous). */
import { sortFloat32 } from './radix.js';

export type Scores = ArrayLike<number>;
export type Labels = ArrayLike<number>;

/** Cumulative counts at each distinct threshold, highest threshold first. A sample counts when score ≥ threshold. */
export interface ThresholdPoints {
  thresholds: Float64Array;
  truePositives: Float64Array;
  falsePositives: Float64Array;
  positives: number;
  negatives: number;
}

/**
 * Splits scores by label into two ascending-sorted arrays. Throws RangeError on length mismatch, a label that
 * is not 0/1, or a non-finite score (a NaN would silently corrupt every ranking metric).
 */
export function splitSorted(scores: Scores, labels: Labels): { pos: Float64Array; neg: Float64Array } {
  if (scores.length !== labels.length) {
    throw new RangeError(`Expected as many labels as scores but got ${labels.length} labels for ${scores.length} scores`);
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new RangeError(`Expected labels of 0 or 1 but labels[${i}] is ${l}`);
    positives += l;
  }
  const pos = new Float64Array(positives);
  const neg = new Float64Array(labels.length - positives);
  let p = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`Expected finite scores but scores[${i}] is ${s}`);
    if (labels[i] === 1) pos[p++] = s + 0;
    else neg[n++] = s + 0; // + 0 turns -0 into +0 so that ±0 tie
  }
  pos.sort();
  neg.sort();
  return { pos, neg };
}

/** One point per distinct threshold, walked from the highest score down (see ThresholdPoints). */
export function thresholdPoints(scores: Scores, labels: Labels): ThresholdPoints {
  const { pos, neg } = splitSorted(scores, labels);
  const max = pos.length + neg.length;
  const thresholds = new Float64Array(max);
  const tps = new Float64Array(max);
  const fps = new Float64Array(max);
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  let k = 0;
  while (i >= 0 || j >= 0) {
    const t = i < 0 ? neg[j]! : j < 0 ? pos[i]! : Math.max(pos[i]!, neg[j]!);
    while (i >= 0 && pos[i] === t) { tp++; i--; }
    while (j >= 0 && neg[j] === t) { fp++; j--; }
    thresholds[k] = t;
    tps[k] = tp;
    fps[k] = fp;
    k++;
  }
  return {
    thresholds: thresholds.slice(0, k),
    truePositives: tps.slice(0, k),
    falsePositives: fps.slice(0, k),
    positives: pos.length,
    negatives: neg.length,
  };
}

function requireBothClasses(pts: ThresholdPoints, what: string): void {
  if (pts.positives === 0 || pts.negatives === 0) {
    throw new RangeError(
      `${what} needs at least one positive and one negative sample but got ${pts.positives} positive and ${pts.negatives} negative`,
    );
  }
}

export interface RocCurve {
  /** Starts at (0, 0); one point per distinct threshold; ends at (1, 1). */
  fpr: Float64Array;
  tpr: Float64Array;
  /** thresholds[k] belongs to point k; the leading (0, 0) point has +Infinity. */
  thresholds: Float64Array;
}

/** The ROC curve (sklearn's roc_curve with drop_intermediate=false). */
export function rocCurve(scores: Scores, labels: Labels): RocCurve {
  const pts = thresholdPoints(scores, labels);
  requireBothClasses(pts, 'ROC');
  const n = pts.thresholds.length + 1;
  const fpr = new Float64Array(n);
  const tpr = new Float64Array(n);
  const thresholds = new Float64Array(n);
  thresholds[0] = Infinity;
  for (let k = 1; k < n; k++) {
    fpr[k] = pts.falsePositives[k - 1]! / pts.negatives;
    tpr[k] = pts.truePositives[k - 1]! / pts.positives;
    thresholds[k] = pts.thresholds[k - 1]!;
  }
  return { fpr, tpr, thresholds };
}

/** The precision–recall curve, one point per distinct threshold from the highest score down (recall ascending). */
export function precisionRecallCurve(scores: Scores, labels: Labels): { recall: Float64Array; precision: Float64Array; thresholds: Float64Array } {
  const pts = thresholdPoints(scores, labels);
  requireBothClasses(pts, 'Precision–recall');
  const n = pts.thresholds.length;
  const recall = new Float64Array(n);
  const precision = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const tp = pts.truePositives[k]!;
    recall[k] = tp / pts.positives;
    precision[k] = tp / (tp + pts.falsePositives[k]!);
  }
  return { recall, precision, thresholds: pts.thresholds };
}

/** Trapezoid area under a polyline whose x never decreases. */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let k = 1; k < x.length; k++) area += (x[k]! - x[k - 1]!) * (y[k]! + y[k - 1]!) * 0.5;
  return area;
}

/** Area under the ROC curve (= sklearn.metrics.roc_auc_score for binary labels). Ties score one half. */
export function rocAuc(scores: Scores, labels: Labels): number {
  const roc = rocCurve(scores, labels);
  return trapezoid(roc.fpr, roc.tpr);
}

/** Image-level AUROC: `rocAuc` over one score per image (label 1 = defective). */
export function imageAuroc(scores: Scores, labels: Labels): number {
  return rocAuc(scores, labels);
}

/**
 * Average precision exactly as sklearn.metrics.average_precision_score defines it:
 * AP = Σ_k (R_k − R_{k−1}) · P_k over distinct thresholds from the highest down (a step function, no
 * interpolation), where P_k = TP/(TP+FP) and R_k = TP/positives at threshold k.
 */
export function averagePrecision(scores: Scores, labels: Labels): number {
  const pts = thresholdPoints(scores, labels);
  if (pts.positives === 0) throw new RangeError('Average precision needs at least one positive sample but got none');
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < pts.thresholds.length; k++) {
    const tp = pts.truePositives[k]!;
    const recall = tp / pts.positives;
    ap += (recall - prevRecall) * (tp / (tp + pts.falsePositives[k]!));
    prevRecall = recall;
  }
  return ap;
}

export interface F1Choice {
  /** Decision threshold (score ≥ threshold → defect): midway between the chosen score and the next lower one. */
  threshold: number;
  f1: number;
  precision: number;
  recall: number;
  /** Fraction of negatives at or above the threshold. */
  falsePositiveRate: number;
  /** Fraction of positives below the threshold. */
  missRate: number;
}

/**
 * The threshold with the best F1 on labelled scores. Any threshold in (s_{k+1}, s_k] makes the same decisions as
 * s_k; we return the midpoint of that interval (the largest margin on both sides) — or s_k itself when it is the
 * lowest score. Ties in F1 go to the higher threshold (fewer false alarms).
 */
export function bestF1Threshold(scores: Scores, labels: Labels): F1Choice {
  const { pos, neg } = splitSorted(scores, labels);
  return bestF1FromSorted(pos, neg);
}

/** bestF1Threshold over already split, ascending-sorted positives and negatives (any typed array, e.g. pixels). */
export function bestF1FromSorted(pos: Float32Array | Float64Array, neg: Float32Array | Float64Array): F1Choice {
  if (pos.length === 0 || neg.length === 0) {
    throw new RangeError(`Best-F1 threshold needs at least one positive and one negative sample but got ${pos.length} positive and ${neg.length} negative`);
  }
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  let best = { f1: -1, tp: 0, fp: 0, score: 0, next: NaN };
  let pendingNext = false;
  while (i >= 0 || j >= 0) {
    const t = i < 0 ? neg[j]! : j < 0 ? pos[i]! : Math.max(pos[i]!, neg[j]!);
    if (pendingNext) { best.next = t; pendingNext = false; }
    while (i >= 0 && pos[i] === t) { tp++; i--; }
    while (j >= 0 && neg[j] === t) { fp++; j--; }
    const f1 = (2 * tp) / (tp + fp + pos.length);
    if (f1 > best.f1) { best = { f1, tp, fp, score: t, next: NaN }; pendingNext = true; }
  }
  const threshold = Number.isNaN(best.next) ? best.score : best.score / 2 + best.next / 2;
  return {
    threshold,
    f1: best.f1,
    precision: best.tp / (best.tp + best.fp),
    recall: best.tp / pos.length,
    falsePositiveRate: best.fp / neg.length,
    missRate: 1 - best.tp / pos.length,
  };
}

/** Confusion rates of a fixed decision threshold (score ≥ threshold → positive). */
export function ratesAt(scores: Scores, labels: Labels, threshold: number): {
  falsePositiveRate: number | null; missRate: number | null; falsePositives: number; misses: number; positives: number; negatives: number;
} {
  let fp = 0, miss = 0, positives = 0, negatives = 0;
  for (let i = 0; i < scores.length; i++) {
    const hit = scores[i]! >= threshold;
    if (labels[i] === 1) { positives++; if (!hit) miss++; }
    else { negatives++; if (hit) fp++; }
  }
  return {
    falsePositiveRate: negatives ? fp / negatives : null,
    missRate: positives ? miss / positives : null,
    falsePositives: fp,
    misses: miss,
    positives,
    negatives,
  };
}

/**
 * Percentile with linear interpolation between order statistics (numpy's default `linear` method):
 * rank = q/100 · (n − 1).
 */
export function percentile(values: Scores, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`Expected a percentile in [0, 100] but received ${q}`);
  if (values.length === 0) throw new RangeError('Expected at least one value for a percentile but got none');
  // float32 data (pixel maps): radix sort, half the memory and a fraction of the time for millions of values
  const sorted = values instanceof Float32Array ? sortFloat32(values) : Float64Array.from(values).sort();
  const rank = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
