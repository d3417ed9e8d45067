/**
 * Activation histograms for calibration, and the two range rules the quantiser offers.
 *
 * One histogram per side of zero (|x| for x < 0 and x ≥ 0), BINS equal bins over [0, top). When a value reaches
 * `top`, the range doubles and neighbouring bins merge, so one pass over the calibration images suffices and the
 * resolution stays within 2× of max/BINS whatever the images hold. Written here rather than taken from a library:
 * no maintained npm package keeps mergeable fixed-range histograms of float tensors, and this is 60 lines.
 */
export const BINS = 2048;

class SideHistogram {
  readonly counts = new Float64Array(BINS);
  top = 0;
  max = 0;
  total = 0;

  /** Makes [0, top) hold `magnitude`: doubles the range (merging bin pairs) until it does. */
  reserve(magnitude: number): void {
    if (this.top === 0) {
      // A power-of-two first range, so that later doublings keep the bin edges aligned.
      this.top = magnitude > 0 ? 2 ** (Math.floor(Math.log2(magnitude)) + 1) : 2 ** -20;
    }
    while (magnitude >= this.top) {
      for (let i = 0; i < BINS / 2; i++) this.counts[i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
      this.counts.fill(0, BINS / 2);
      this.top *= 2;
    }
    if (magnitude > this.max) this.max = magnitude;
  }

  /** The magnitude below which `fraction` of this side's values lie (bin upper edges, capped at the maximum). */
  quantile(fraction: number): number {
    if (this.total === 0) return 0;
    const want = fraction * this.total;
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return Math.min(this.max, ((i + 1) / BINS) * this.top);
    }
    return this.max;
  }
}

/** The distribution of one activation tensor over all calibration samples. */
export class ActivationHistogram {
  readonly negative = new SideHistogram();
  readonly positive = new SideHistogram();

  addAll(values: Float32Array): void {
    let maxNegative = 0;
    let maxPositive = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (x < -maxNegative) maxNegative = -x;
      else if (x > maxPositive) maxPositive = x;
      else if (x !== x) maxPositive = NaN; // NaN
    }
    if (!Number.isFinite(maxNegative) || !Number.isFinite(maxPositive)) {
      throw new RangeError('activation histogram: the tensor holds NaN or infinity');
    }
    const { negative: neg, positive: pos } = this;
    neg.reserve(maxNegative);
    pos.reserve(maxPositive);
    // The hot loop of calibration (every element of every probed tensor): bin index by one multiply.
    const kn = BINS / neg.top;
    const kp = BINS / pos.top;
    const cn = neg.counts;
    const cp = pos.counts;
    let nn = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      if (x < 0) {
        cn[Math.min(BINS - 1, (-x * kn) | 0)]! += 1;
        nn += 1;
      } else cp[Math.min(BINS - 1, (x * kp) | 0)]! += 1;
    }
    neg.total += nn;
    pos.total += values.length - nn;
  }

  get count(): number {
    return this.negative.total + this.positive.total;
  }

  /** Smallest and largest value seen. */
  extremes(): [number, number] {
    return [-this.negative.max, this.positive.max];
  }

  /**
   * Percentile rule: clip the (100 − p) % most extreme values, shared between the two sides in proportion to
   * their counts — a few outliers stretch a min–max range and waste the 256 levels on values that hardly occur.
   */
  percentileRange(percentile: number): [number, number] {
    const tail = 1 - percentile / 100;
    return [-this.negative.quantile(1 - tail), this.positive.quantile(1 - tail)];
  }

  /**
   * MSE rule: of the ranges [t·lo, t·hi] (t from 1 down to 1/64 of the extremes, 128 steps), the one with the
   * least expected squared error — rounding noise scale²/12 for values inside, the clipping error for those
   * outside — over this histogram.
   */
  mseRange(): [number, number] {
    const [lo, hi] = this.extremes();
    let best: [number, number] = [lo, hi];
    let bestError = Infinity;
    for (let step = 0; step < 128; step++) {
      const t = 2 ** (-6 * (step / 127));
      const error = this.squaredError(t * lo, t * hi);
      if (error < bestError) {
        bestError = error;
        best = [t * lo, t * hi];
      }
    }
    return best;
  }

  private squaredError(lo: number, hi: number): number {
    const scale = (Math.max(hi, 0) - Math.min(lo, 0)) / 255;
    const noise = (scale * scale) / 12;
    let error = 0;
    for (const [side, clip] of [[this.positive, hi], [this.negative, -lo]] as const) {
      const width = side.top / BINS;
      for (let i = 0; i < BINS; i++) {
        const n = side.counts[i]!;
        if (n === 0) continue;
        const centre = (i + 0.5) * width;
        error += centre > clip ? n * (centre - clip) ** 2 : n * noise;
      }
    }
    return error;
  }
}
