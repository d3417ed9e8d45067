/**
 * The training loss (method.md §5, eq. 6): L = l2(I, I_r) + θ·(1 − SSIM(I, I_r)) + α·Σ_levels entropy(ŵ).
 * Images are NHWC [B,H,W,3] in [0, 1]. SSIM follows pytorch-ssim as used by DRAEM/EdgRec: Gaussian window
 * 11, σ 1.5, zero padding to the same size, C1 = (0.01·L)², C2 = (0.03·L)² with L = 1, per channel, mean of
 * the map. The Gaussian is applied as two separable 1-D convolutions on a [B·C·5,H,W,1] stack through plain
 * conv2d (the wasm back end has fast conv gradients but no depthwise ones).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface LossWeights {
  /** θ: weight of (1 − SSIM). */
  ssim: number;
  /** α: weight of the addressing entropy. */
  entropy: number;
}

export interface LossTerms {
  total: tf.Scalar;
  l2: tf.Scalar;
  ssim: tf.Scalar;
  entropy: tf.Scalar;
}

export function gaussianWindow(size: number, sigma: number): Float32Array {
  const w = new Float32Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += w[i]!;
  }
  for (let i = 0; i < size; i++) w[i]! /= sum;
  return w;
}

/** Separable Gaussian blur of a [N,H,W,1] stack, zero padded to the same size. */
function blur(x: tf.Tensor4D, window: Float32Array): tf.Tensor4D {
  const k = window.length;
  const pad = (k - 1) >> 1;
  const col = tf.tensor4d(window, [k, 1, 1, 1]);
  const row = tf.tensor4d(window, [1, k, 1, 1]);
  const a = tf.conv2d(x, col, 1, [[0, 0], [pad, pad], [0, 0], [0, 0]]);
  return tf.conv2d(a, row, 1, [[0, 0], [0, 0], [pad, pad], [0, 0]]);
}

/** Mean SSIM over pixels and channels of two NHWC image batches. */
export function ssim(x: tf.Tensor4D, y: tf.Tensor4D, windowSize = 11, sigma = 1.5, range = 1): tf.Scalar {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const window = gaussianWindow(windowSize, sigma);
    // channels → batch, so one single-channel conv filters every channel of every image
    const planes = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]).reshape([b * c, h, w, 1]);
    const px = planes(x);
    const py = planes(y);
    const stack = tf.concat([px, py, tf.mul(px, px), tf.mul(py, py), tf.mul(px, py)], 0) as tf.Tensor4D;
    const [mx, my, xx, yy, xy] = tf.split(blur(stack, window), 5, 0) as tf.Tensor4D[];
    const mx2 = tf.mul(mx!, mx!);
    const my2 = tf.mul(my!, my!);
    const mxy = tf.mul(mx!, my!);
    const c1 = (0.01 * range) ** 2;
    const c2 = (0.03 * range) ** 2;
    const num = tf.mul(tf.add(tf.mul(mxy, 2), c1), tf.add(tf.mul(tf.sub(xy!, mxy), 2), c2));
    const den = tf.mul(tf.add(tf.add(mx2, my2), c1), tf.add(tf.add(tf.sub(xx!, mx2), tf.sub(yy!, my2)), c2));
    return tf.mean(tf.div(num, den)) as tf.Scalar;
  });
}

/**
 * Entropy of memory addressing weights, −Σ ŵ log(ŵ + 1e-12) over the item axis, averaged over the other axes
 * (MemAE's reduction), summed over the levels (eq. 5).
 */
export function addressingEntropy(levels: tf.Tensor[], itemAxis: number): tf.Scalar {
  return tf.tidy(() => {
    if (levels.length === 0) return tf.scalar(0);
    const per = levels.map((w) => tf.mean(tf.neg(tf.sum(tf.mul(w, tf.log(tf.add(w, 1e-12))), itemAxis))));
    return tf.addN(per) as tf.Scalar;
  });
}

/** The full loss; `addressing` holds one tensor per memory level with the items on `itemAxis`. */
export function reconstructionLoss(
  target: tf.Tensor4D,
  recon: tf.Tensor4D,
  addressing: tf.Tensor[],
  itemAxis: number,
  weights: LossWeights,
): LossTerms {
  const l2 = tf.mean(tf.squaredDifference(recon, target)) as tf.Scalar;
  const ssimLoss = tf.sub(1, ssim(target, recon)) as tf.Scalar;
  const entropy = addressingEntropy(addressing, itemAxis);
  const total = tf.addN([l2, tf.mul(ssimLoss, weights.ssim), tf.mul(entropy, weights.entropy)]) as tf.Scalar;
  return { total, l2, ssim: ssimLoss, entropy };
}
