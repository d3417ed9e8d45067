import { describe, expect, test } from 'vitest';
import { binomialCdf, clopperPearson95, falseAlarmThreshold, missRateAtFalseAlarm } from '../../src/eval/false-alarm.js';
import { seededRandom } from '../../src/util/random.js';

/** n draws of a Gumbel(location, scale) by inverse transform. */
function gumbel(n: number, location: number, scale: number, seed: number): number[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => location - scale * Math.log(-Math.log(r())));
}

describe('falseAlarmThreshold', () => {
  test('recovers the 1 % quantile of Gumbel-distributed good scores from 60 images, with a range that covers it', () => {
    const truth = 1 + 0.1 * -Math.log(-Math.log(0.99)); // 1.460
    const hits: boolean[] = [];
    const bound: boolean[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const t = falseAlarmThreshold(gumbel(60, 1, 0.1, seed), 0.01);
      expect(t.method).toMatch(/^(gumbel|data-bound)$/);
      expect(Math.abs(t.threshold - truth)).toBeLessThan(0.2);
      bound.push(t.method === 'data-bound');
      hits.push(t.thresholdRange90[0] <= truth && truth <= t.thresholdRange90[1]);
    }
    // a 90 % bootstrap range: most seeds cover the true quantile
    expect(hits.filter(Boolean).length).toBeGreaterThanOrEqual(14);
    // Gumbel data rarely contradicts its own fit
    expect(bound.filter(Boolean).length).toBeLessThanOrEqual(4);
  });

  test('a plain max + margin would be far off: on 2000 images the order statistic flags ≈ 1 %', () => {
    const scores = gumbel(2000, 0, 1, 7);
    const t = falseAlarmThreshold(scores, 0.01);
    expect(t.method).toBe('order-statistic');
    expect(t.exceedances).toBeGreaterThanOrEqual(15);
    expect(t.exceedances).toBeLessThanOrEqual(25);
    expect(t.rateInterval95[0]).toBeLessThan(0.01);
    expect(t.rateInterval95[1]).toBeGreaterThan(0.01);
    // fresh good images from the same process: close to 1 % false alarms
    const fresh = gumbel(20000, 0, 1, 8);
    const rate = fresh.filter((s) => s >= t.threshold).length / fresh.length;
    expect(rate).toBeGreaterThan(0.005);
    expect(rate).toBeLessThan(0.015);
  });

  test('too few images for the target: a warning naming the fix; too few for quartiles: refused', () => {
    const t = falseAlarmThreshold(gumbel(24, 0, 1, 3), 0.01);
    expect(t.warning).toMatch(/^24 good images cannot show a 1 % false-alarm rate .*add good images \(≥ 1000 for a distribution-free estimate\)$/);
    expect(falseAlarmThreshold(gumbel(200, 0, 1, 3), 0.01).warning).toBeUndefined();
    expect(() => falseAlarmThreshold([1, 2, 3], 0.01)).toThrow(/at least 4 good-image scores/);
    expect(() => falseAlarmThreshold([1, 2, 3, 4], 0.6)).toThrow(/false-alarm rate in \(0, 0.5\)/);
    expect(() => falseAlarmThreshold([1, 2, NaN, 4], 0.01)).toThrow(/finite/);
    // identical scores: no spread to fit, the maximum stands
    expect(falseAlarmThreshold([2, 2, 2, 2, 2], 0.01).threshold).toBe(2);
  });

  test('a tail heavier than the fit: raised to the lowest threshold the good images are consistent with', () => {
    // 44 ordinary good images and 7 with high scores (as 7 of 51 held-out BSData images exceeded a quartile fit)
    const scores = [...Array.from({ length: 44 }, (_, i) => 0.1 + i / 440), 0.9, 1.2, 1.6, 2.0, 2.5, 3.1, 4.0];
    const t = falseAlarmThreshold(scores, 0.01);
    expect(t.method).toBe('data-bound');
    expect(t.exceedances).toBe(2); // 3 of 51 would put the exact lower bound of the rate above 1 %
    expect(t.threshold).toBe(3.1);
    expect(t.rateInterval95[0]).toBeLessThanOrEqual(0.01);
    // with a 20 % budget the images allow it: the estimate stands
    expect(falseAlarmThreshold(scores, 0.2).method).not.toBe('data-bound');
  });

  test('deterministic: same scores, same result', () => {
    const s = gumbel(40, 0, 1, 11);
    expect(falseAlarmThreshold(s, 0.05)).toEqual(falseAlarmThreshold(s, 0.05));
  });
});

describe('exact binomial intervals', () => {
  test('Clopper–Pearson matches published values', () => {
    const [lo0, hi0] = clopperPearson95(0, 10);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.30850, 4);
    const [lo5, hi5] = clopperPearson95(5, 10);
    expect(lo5).toBeCloseTo(0.18709, 4);
    expect(hi5).toBeCloseTo(0.81291, 4);
    expect(clopperPearson95(10, 10)[1]).toBe(1);
    expect(binomialCdf(2, 5, 0.5)).toBeCloseTo(0.5, 12);
  });
});

describe('missRateAtFalseAlarm', () => {
  test('the threshold keeps ⌊rate·good⌋ good images above; defects at or below the next good score are misses', () => {
    const good = Array.from({ length: 100 }, (_, i) => i); // 0…99
    expect(missRateAtFalseAlarm(good, [97, 98, 99, 100], 0.01)).toBe(0.5); // bar = 98
    expect(missRateAtFalseAlarm(good, [97, 98, 99, 100], 0.05)).toBe(0); // bar = 94
    expect(missRateAtFalseAlarm(good, [], 0.01)).toBeNull();
    expect(missRateAtFalseAlarm([], [1], 0.01)).toBeNull();
    // fewer good images than 1/rate: no false alarm allowed, the bar is the highest good score
    expect(missRateAtFalseAlarm([1, 2, 3], [3, 4], 0.01)).toBe(0.5);
  });
});
