/**
 * The operating point a line runs at: an image threshold for a stated false-alarm rate, set from good images
 * only, and the miss rate a labelled test set shows at a given false-alarm rate (docs/evaluation.md,
 * "Operating point").
 *
 * Why a fitted tail and not a plain percentile: a plant states budgets like 1 % false alarms, and a held-out
 * slice of good images is often 20–80 images — the 99th percentile of 24 scores is the maximum, i.e. no estimate
 * at all. The image score is the maximum of an anomaly map (or the mean of its top pixels), and maxima of many
 * weakly dependent values follow a Gumbel law (Fisher–Tippett), so the rule fits a Gumbel distribution to the
 * good scores by their quartiles (robust to a stray good image) and takes its (1 − rate) quantile. With enough
 * images (≥ 10 expected exceedances) the distribution-free order statistic is used instead. Either way the
 * result carries its uncertainty: a bootstrap range of the threshold and the exact (Clopper–Pearson) 95 % bound
 * of the false-alarm rate that the images themselves support.
 */
import { seededRandom } from '../util/random.js';

/**
 * 'gumbel': the fitted tail's quantile; 'order-statistic': the distribution-free one; 'data-bound': the fit put the
 * threshold where more of the good images exceed it than a rate of `target` can explain (their exact 95 % lower
 * bound is above it), so the threshold is raised to the lowest one those images are consistent with.
 */
export type FalseAlarmMethod = 'gumbel' | 'order-statistic' | 'data-bound';

export interface FalseAlarmThreshold {
  threshold: number;
  /** The false-alarm rate asked for (a fraction, e.g. 0.01). */
  target: number;
  method: FalseAlarmMethod;
  /** Good images the threshold rests on. */
  images: number;
  /** Of them, how many score at or above the threshold. */
  exceedances: number;
  /** Exact two-sided 95 % interval of the false-alarm rate given `exceedances` of `images`. */
  rateInterval95: [number, number];
  /** 5th–95th percentile of the threshold over 200 bootstrap resamples of the good scores. */
  thresholdRange90: [number, number];
  /** Set when the images are too few to support the target (said to the user as a warning). */
  warning?: string;
}

/** −ln(−ln p): the standard Gumbel quantile function. */
const gumbelZ = (p: number): number => -Math.log(-Math.log(p));
const Z25 = gumbelZ(0.25);
const Z75 = gumbelZ(0.75);

/** Quantile p of ascending `sorted` values, linear between order statistics (numpy's default); NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * Gumbel quantile at 1 − rate, location and scale fitted through the sample quartiles. A degenerate spread
 * (all scores equal) falls back to the maximum: nothing better can be said from such data.
 */
function gumbelThreshold(sorted: Float64Array, rate: number): number {
  const q25 = quantileSorted(sorted, 0.25);
  const q75 = quantileSorted(sorted, 0.75);
  const scale = (q75 - q25) / (Z75 - Z25);
  if (!(scale > 0)) return sorted[sorted.length - 1]!;
  const location = q25 - scale * Z25;
  return location + scale * gumbelZ(1 - rate);
}

/** Distribution-free: the ⌈(n + 1)(1 − rate)⌉-th smallest score (split-conformal), nudged above ties. */
function orderStatisticThreshold(sorted: Float64Array, rate: number): number {
  const k = Math.min(sorted.length, Math.ceil((sorted.length + 1) * (1 - rate)));
  return sorted[k - 1]!;
}

function lnGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let sum = 0;
  const lnNf = lnGamma(n + 1);
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(lnNf - lnGamma(i + 1) - lnGamma(n - i + 1) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return Math.min(1, sum);
}

/** Exact (Clopper–Pearson) two-sided 95 % interval of a binomial rate from k successes in n trials. */
export function clopperPearson95(k: number, n: number): [number, number] {
  const solve = (f: (p: number) => number): number => {
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > 0) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // lower: P(X ≥ k | p) = 0.025; upper: P(X ≤ k | p) = 0.025
  const lower = k === 0 ? 0 : solve((p) => 0.025 - (1 - binomialCdf(k - 1, n, p)));
  const upper = k === n ? 1 : solve((p) => binomialCdf(k, n, p) - 0.025);
  return [lower, upper];
}

/**
 * The image threshold for a false-alarm `rate` (fraction in (0, 0.5)) from good images' scores.
 * Throws RangeError on fewer than 4 scores (no quartiles), a non-finite score or a rate outside (0, 0.5).
 */
export function falseAlarmThreshold(goodScores: ArrayLike<number>, rate: number, seed = 0): FalseAlarmThreshold {
  if (!(rate > 0 && rate < 0.5)) throw new RangeError(`Expected a false-alarm rate in (0, 0.5) but received ${rate}`);
  if (goodScores.length < 4) throw new RangeError(`Expected at least 4 good-image scores for a false-alarm threshold but got ${goodScores.length}`);
  const sorted = Float64Array.from(goodScores).sort();
  if (!sorted.every(Number.isFinite)) throw new RangeError('Expected finite good-image scores');
  const n = sorted.length;
  const method: FalseAlarmMethod = (n + 1) * rate >= 10 ? 'order-statistic' : 'gumbel';
  const estimate = (s: Float64Array): number => (method === 'gumbel' ? gumbelThreshold(s, rate) : orderStatisticThreshold(s, rate));
  const fitted = estimate(sorted);
  const floor = consistentFloor(sorted, rate);
  const threshold = Math.max(fitted, floor);
  const exceedances = sorted.reduce((c, v) => c + (v >= threshold ? 1 : 0), 0);

  const random = seededRandom(seed + 0x0fa1);
  const boot: number[] = [];
  const resample = new Float64Array(n);
  for (let b = 0; b < 200; b++) {
    for (let i = 0; i < n; i++) resample[i] = sorted[Math.floor(random() * n)]!;
    boot.push(estimate(resample.sort()));
  }
  boot.sort((a, b) => a - b);
  const result: FalseAlarmThreshold = {
    threshold,
    target: rate,
    method: floor > fitted ? 'data-bound' : method,
    images: n,
    exceedances,
    rateInterval95: clopperPearson95(exceedances, n),
    thresholdRange90: [quantileSorted(boot, 0.05), quantileSorted(boot, 0.95)],
  };
  if (n * rate < 1) {
    result.warning = `${n} good images cannot show a ${formatRate(rate)} false-alarm rate (fewer than one expected false alarm): the threshold extrapolates a Gumbel tail; add good images (≥ ${Math.ceil(10 / rate)} for a distribution-free estimate)`;
  }
  return result;
}

/**
 * The lowest threshold the good images do not contradict: at most k of them at or above it, k the largest count
 * whose exact 95 % lower bound on the rate is still at or below `rate`. (A tail fitted through the quartiles
 * can sit far too low when the good scores' tail is heavier than Gumbel's: 7 of 51 held-out BSData images above a
 * "1 %" threshold, seen here.) −Infinity when any threshold is consistent.
 */
function consistentFloor(sorted: Float64Array, rate: number): number {
  const n = sorted.length;
  let k = 0;
  while (k < n && clopperPearson95(k + 1, n)[0] <= rate) k++;
  if (k >= n) return -Infinity;
  // at most k images at or above: the (k+1)-th largest must stay below, so the threshold is the k-th largest
  // (or just above the maximum when k = 0)
  return k === 0 ? nextUp(sorted[n - 1]!) : sorted[n - k]!;
}

/** The smallest double above x (a threshold no image at x reaches, as `score ≥ threshold` decides). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0] = u[0]! + (x > 0 ? 1n : -1n);
  return b[0]!;
}

export function formatRate(rate: number): string {
  return `${+(rate * 100).toPrecision(3)} %`;
}

/**
 * Miss rate at a false-alarm rate on labelled scores: the threshold is the lowest that keeps at most
 * ⌊rate · good⌋ good images at or above it (just above the (k+1)-th highest good score); every defective image
 * scoring at or below that good score is a miss. Null without good or defective images.
 */
export function missRateAtFalseAlarm(goodScores: ArrayLike<number>, defectScores: ArrayLike<number>, rate: number): number | null {
  if (goodScores.length === 0 || defectScores.length === 0) return null;
  const good = Float64Array.from(goodScores).sort().reverse();
  const allowed = Math.floor(rate * good.length + 1e-9);
  if (allowed >= good.length) return 0;
  const bar = good[allowed]!;
  let misses = 0;
  for (let i = 0; i < defectScores.length; i++) if (defectScores[i]! <= bar) misses++;
  return misses / defectScores.length;
}
