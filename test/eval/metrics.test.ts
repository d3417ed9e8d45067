import { describe, expect, test } from 'vitest';
import {
  averagePrecision,
  bestF1Threshold,
  imageAuroc,
  percentile,
  ratesAt,
  rocAuc,
  rocCurve,
} from '../../src/eval/metrics.js';

describe('image-level metrics: sklearn docstring examples', () => {
  // sklearn.metrics.roc_auc_score docstring / user guide: y_true = [0, 0, 1, 1], y_scores = [0.1, 0.4, 0.35, 0.8] → 0.75
  test('roc_auc_score example → 0.75', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });
  // sklearn.metrics.average_precision_score docstring: same data → 0.8333…
  test('average_precision_score example → 0.8333…', () => {
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 12);
  });
  // sklearn.metrics.roc_curve docstring: fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1], thresholds [inf, .8, .4, .35, .1]
  test('roc_curve example', () => {
    const roc = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(Array.from(roc.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(roc.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(roc.thresholds)).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
  });
});

describe('image-level metrics: hand-computed cases', () => {
  test('perfect ranking: AUROC 1, AP 1', () => {
    expect(imageAuroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(averagePrecision([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
  });
  test('inverted ranking: AUROC 0; AP = ½·⅓ + ½·½', () => {
    // thresholds 0.4, 0.3 → no TP; 0.2 → TP 1 of 3 flagged (P ⅓, R ½); 0.1 → TP 2 of 4 (P ½, R 1)
    expect(imageAuroc([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0])).toBe(0);
    expect(averagePrecision([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0])).toBeCloseTo(0.5 / 3 + 0.25, 12);
  });
  test('all scores tied: AUROC ½ and AP = share of positives (one ROC point, not one per sample)', () => {
    const s = [0.5, 0.5, 0.5, 0.5, 0.5];
    const y = [1, 0, 0, 1, 0];
    expect(rocAuc(s, y)).toBe(0.5);
    expect(averagePrecision(s, y)).toBeCloseTo(0.4, 12);
    expect(Array.from(rocCurve(s, y).fpr)).toEqual([0, 1]);
  });
  test('partial ties count one half per tied pair, whatever the input order', () => {
    // positives 0.7, 0.5; negatives 0.5, 0.2 → pairs: (0.7>0.5) 1, (0.7>0.2) 1, (0.5=0.5) ½, (0.5>0.2) 1 → 3.5/4
    expect(rocAuc([0.7, 0.5, 0.5, 0.2], [1, 1, 0, 0])).toBe(0.875);
    expect(rocAuc([0.5, 0.2, 0.7, 0.5], [0, 0, 1, 1])).toBe(0.875);
    // AP: t=0.7 → P 1, R ½; t=0.5 → TP 2, FP 1 → P ⅔, R 1 → ½·1 + ½·⅔
    expect(averagePrecision([0.5, 0.2, 0.7, 0.5], [0, 0, 1, 1])).toBeCloseTo(0.5 + 1 / 3, 12);
  });
  test('accepts typed arrays; -0 ties with +0', () => {
    expect(rocAuc(new Float32Array([-0, 0]), new Uint8Array([1, 0]))).toBe(0.5);
  });
  test('agrees with the pairwise definition on random data with ties', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      const n = 30 + trial * 5;
      const s = Array.from({ length: n }, () => Math.round(rand() * 10) / 10);
      const y: number[] = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : rand() < 0.3 ? 1 : 0));
      let wins = 0, pairs = 0;
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
        if (y[a] === 1 && y[b] === 0) { pairs++; wins += s[a]! > s[b]! ? 1 : s[a] === s[b] ? 0.5 : 0; }
      }
      expect(rocAuc(s, y)).toBeCloseTo(wins / pairs, 12);
      // AP by its definition: mean over thresholds of precision weighted by the recall step, per distinct score
      const distinct = [...new Set(s)].sort((u, v) => v - u);
      const P = y.reduce<number>((acc, v) => acc + v, 0);
      let ap = 0, prevR = 0;
      for (const t of distinct) {
        let tp = 0, fp = 0;
        for (let i = 0; i < n; i++) if (s[i]! >= t) (y[i] ? tp++ : fp++);
        ap += (tp / P - prevR) * (tp / (tp + fp));
        prevR = tp / P;
      }
      expect(averagePrecision(s, y)).toBeCloseTo(ap, 12);
    }
  });
});

describe('thresholds and rates', () => {
  test('best F1 picks the midpoint of the winning gap', () => {
    // sorted: 0.9(1) 0.8(1) 0.6(0) 0.4(1) 0.2(0): F1 at ≥0.8 = 4/5, at ≥0.4 = 6/7 (best), at ≥0.2 = 6/8
    const c = bestF1Threshold([0.9, 0.8, 0.6, 0.4, 0.2], [1, 1, 0, 1, 0]);
    expect(c.f1).toBeCloseTo(6 / 7, 12);
    expect(c.threshold).toBeCloseTo(0.3, 12);
    expect(c.falsePositiveRate).toBe(0.5);
    expect(c.missRate).toBe(0);
  });
  test('rates at a threshold', () => {
    const r = ratesAt([0.9, 0.8, 0.6, 0.4, 0.2], [1, 1, 0, 1, 0], 0.5);
    expect(r).toMatchObject({ falsePositiveRate: 0.5, missRate: 1 / 3, falsePositives: 1, misses: 1 });
  });
  test('percentile matches numpy linear interpolation', () => {
    // np.percentile([1, 2, 3, 4], 99.5) = 3 + 0.985 = 3.985
    expect(percentile([4, 1, 3, 2], 99.5)).toBeCloseTo(3.985, 12);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
  });
});

describe('bad input', () => {
  test('length mismatch, bad labels, NaN, one class only', () => {
    expect(() => rocAuc([0.1, 0.2], [0])).toThrow(/as many labels as scores/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/labels of 0 or 1.*labels\[1\] is 2/);
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/finite scores.*scores\[1\] is NaN/);
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/at least one positive and one negative/);
    expect(() => averagePrecision([0.1, 0.2], [0, 0])).toThrow(/at least one positive/);
    expect(() => percentile([], 50)).toThrow(/at least one value/);
  });
});
