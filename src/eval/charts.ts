import type { CurvePoints } from './pixel-metrics.js';
import type { SubsetCurves } from './summarize.js';

/**
 * What report.html plots, decided here and drawn in the page by uPlot (src/eval/report-assets/report.js):
 * ROC, precision–recall and PRO curves, each for all images and per defect type. The score histogram is drawn
 * from the per-image scores the page holds anyway (it moves with the threshold slider).
 */
export interface CurveSeries {
  name: string;
  x: number[];
  y: number[];
  colour: string;
}

export interface CurveChart {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** The x axis runs over [0, xMax]. */
  xMax: number;
  series: CurveSeries[];
  /** Dashed chance line y = x (ROC). */
  diagonal?: boolean;
  /** A dashed vertical line, e.g. the AUPRO integration limit. */
  marker?: { x: number; label: string };
  /** Which operating point the page marks at the slider's threshold (all images). */
  operatingPoint?: 'roc' | 'pr';
}

/** One colour per subset: "all" first, then the defect types in dataset order. */
const PALETTE = ['#1c7ed6', '#e8590c', '#2b8a3e', '#7048e8', '#c2255c', '#0c8599', '#f08c00', '#5c940d', '#862e9c', '#495057'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Cuts a curve at x = xMax with a linearly interpolated point (as the AUPRO integral does). */
export function clipCurve(c: CurvePoints, xMax: number): CurvePoints {
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < c.x.length; k++) {
    if (c.x[k]! <= xMax) {
      x.push(c.x[k]!);
      y.push(c.y[k]!);
      continue;
    }
    if (k > 0) {
      const x0 = c.x[k - 1]!, y0 = c.y[k - 1]!;
      x.push(xMax);
      y.push(y0 + ((c.y[k]! - y0) * (xMax - x0)) / (c.x[k]! - x0));
    }
    break;
  }
  return { x, y };
}

/** The report's curve charts from the overall and per-defect curves; a chart without any curve is left out. */
export function curveCharts(overall: SubsetCurves, perDefect: Record<string, SubsetCurves>, fprLimit: number): CurveChart[] {
  const subsets: [string, SubsetCurves][] = [['all', overall], ...Object.entries(perDefect)];
  const series = (pick: (c: SubsetCurves) => CurvePoints | undefined, xMax = 1): CurveSeries[] =>
    subsets.flatMap(([name, c], i) => {
      const curve = pick(c);
      return curve ? [{ name, ...clipCurve(curve, xMax), colour: PALETTE[i % PALETTE.length]! }] : [];
    });
  const charts: CurveChart[] = [
    { id: 'roc', title: 'Image ROC per defect type', xLabel: 'false-alarm rate (good images)', yLabel: 'detection rate', xMax: 1, series: series((c) => c.imageRoc), diagonal: true, operatingPoint: 'roc' },
    { id: 'pr', title: 'Image precision–recall', xLabel: 'recall (defective images found)', yLabel: 'precision', xMax: 1, series: series((c) => c.imagePr), operatingPoint: 'pr' },
    { id: 'pixel-roc', title: 'Pixel ROC per defect type', xLabel: 'false positive rate (pixels)', yLabel: 'true positive rate (pixels)', xMax: 1, series: series((c) => c.pixelRoc), diagonal: true },
    {
      id: 'pro', title: `PRO per defect type (AUPRO integrates to FPR ${fprLimit})`, xLabel: 'false positive rate (pixels)', yLabel: 'per-region overlap', xMax: 1,
      series: series((c) => c.pro), marker: { x: fprLimit, label: `FPR ${fprLimit}` },
    },
  ];
  return charts.filter((c) => c.series.length > 0);
}
