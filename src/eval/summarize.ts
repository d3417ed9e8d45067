import { missRateAtFalseAlarm } from './false-alarm.js';
import { bestF1Threshold, imageAuroc, precisionRecallCurve, ratesAt, rocCurve } from './metrics.js';
import { pixelMetrics, type CurvePoints, type PixelSample } from './pixel-metrics.js';
import type { ScoredImage } from './score-dataset.js';

/**
 * Metrics of a scored dataset, overall and per defect type. A defect type's subset is test/good plus that
 * type's images (so each type gets its own image AUROC against the same good images); pixel metrics use the
 * images that have masks (good images count as all-normal masks). A metric that cannot be computed (e.g. no
 * masks for a type) is null, with the reason in `notes`.
 */
export interface SubsetMetrics {
  good: number;
  defective: number;
  /** Defective images in the subset without a mask (image level only). */
  unmasked: number;
  imageAuroc: number | null;
  /**
   * Fraction of defective images missed at the threshold that flags 1 % (5 %) of the good test images — the
   * operating point a line runs at, read off the labelled test set (a measurement, not a threshold choice).
   */
  missAt1PctFalseAlarms: number | null;
  missAt5PctFalseAlarms: number | null;
  pixelAuroc: number | null;
  pixelAp: number | null;
  aupro: number | null;
  pixels?: { defect: number; normal: number; regions: number };
}

/** Image ROC and precision–recall, pixel ROC and PRO of one subset (absent where they cannot be computed). */
export interface SubsetCurves {
  imageRoc?: CurvePoints;
  /** x: recall, y: precision (image level). */
  imagePr?: CurvePoints;
  pixelRoc?: CurvePoints;
  pro?: CurvePoints;
}

export interface Summary {
  overall: SubsetMetrics;
  perDefect: Record<string, SubsetMetrics>;
  fprLimit: number;
  /** Curves of the overall subset, thinned for plotting. */
  curves: SubsetCurves;
  /** The same curves per defect type (test/good plus that type's images). */
  perDefectCurves: Record<string, SubsetCurves>;
  bestF1?: ReturnType<typeof bestF1Threshold>;
  notes: string[];
}

function subsetMetrics(name: string, items: ScoredImage[], fprLimit: number, notes: string[]): { metrics: SubsetMetrics; curves: SubsetCurves } {
  const good = items.filter((s) => s.image.label === 0).length;
  const defective = items.length - good;
  const unmasked = items.filter((s) => s.image.label === 1 && !s.mask).length;
  const metrics: SubsetMetrics = {
    good, defective, unmasked, imageAuroc: null, missAt1PctFalseAlarms: null, missAt5PctFalseAlarms: null, pixelAuroc: null, pixelAp: null, aupro: null,
  };
  const curves: SubsetCurves = {};
  if (good && defective) {
    const scores = items.map((s) => s.score);
    const labels = items.map((s) => s.image.label);
    metrics.imageAuroc = imageAuroc(scores, labels);
    const goodScores = items.filter((s) => s.image.label === 0).map((s) => s.score);
    const defectScores = items.filter((s) => s.image.label === 1).map((s) => s.score);
    metrics.missAt1PctFalseAlarms = missRateAtFalseAlarm(goodScores, defectScores, 0.01);
    metrics.missAt5PctFalseAlarms = missRateAtFalseAlarm(goodScores, defectScores, 0.05);
    const roc = rocCurve(scores, labels);
    curves.imageRoc = { x: Array.from(roc.fpr), y: Array.from(roc.tpr) };
    const pr = precisionRecallCurve(scores, labels);
    curves.imagePr = { x: Array.from(pr.recall), y: Array.from(pr.precision) };
  } else {
    notes.push(`${name}: image AUROC needs good and defective images (has ${good} good, ${defective} defective)`);
  }
  const samples: PixelSample[] = items.filter((s) => s.mask).map((s) => ({ map: s.map, mask: s.mask!, width: s.mapWidth, height: s.mapHeight }));
  const anyDefectPixel = samples.some((s) => s.mask.some((m) => m !== 0));
  if (anyDefectPixel && good) {
    const px = pixelMetrics(samples, { fprLimit });
    metrics.pixelAuroc = px.auroc;
    metrics.pixelAp = px.ap;
    metrics.aupro = px.aupro;
    metrics.pixels = { defect: px.positives, normal: px.negatives, regions: px.regions };
    curves.pixelRoc = px.roc;
    curves.pro = px.pro;
  } else if (defective) {
    notes.push(`${name}: no pixel metrics (${anyDefectPixel ? 'no good images' : 'no mask with defect pixels'})`);
  }
  return { metrics, curves };
}

export function summarize(scored: ScoredImage[], defects: string[], fprLimit = 0.3): Summary {
  const notes: string[] = [];
  const overall = subsetMetrics('all', scored, fprLimit, notes);
  const perDefect: Record<string, SubsetMetrics> = {};
  const perDefectCurves: Record<string, SubsetCurves> = {};
  for (const defect of defects) {
    const subset = subsetMetrics(defect, scored.filter((s) => s.image.label === 0 || s.image.defect === defect), fprLimit, notes);
    perDefect[defect] = subset.metrics;
    perDefectCurves[defect] = subset.curves;
  }
  const summary: Summary = { overall: overall.metrics, perDefect, fprLimit, curves: overall.curves, perDefectCurves, notes };
  if (overall.metrics.good && overall.metrics.defective) {
    summary.bestF1 = bestF1Threshold(scored.map((s) => s.score), scored.map((s) => s.image.label));
  }
  return summary;
}

/** Image-level outcome rates of a threshold on the scored set. */
export function thresholdRates(scored: ScoredImage[], threshold: number) {
  return ratesAt(scored.map((s) => s.score), scored.map((s) => s.image.label), threshold);
}
