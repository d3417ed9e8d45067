/**
 * Gaussian blur of an interleaved float image — the non-learned "reconstruction" of the reference scorer
 * (issue 4's baseline: the input blurred with σ = 2). Separable, kernel radius ceil(4σ) (OpenCV's choice for
 * float images with ksize 0), normalised to sum 1, borders mirrored without repeating the edge pixel
 * (reflect-101, OpenCV's default), computed in float64 per tap, stored as float32.
 */
export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`Expected a positive sigma but received ${sigma}`);
  const radius = Math.ceil(4 * sigma);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** reflect-101: … 2 1 | 0 1 2 … n-1 | n-2 n-3 … */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

export function gaussianBlur(hwc: Float32Array, width: number, height: number, channels: number, sigma: number): Float32Array {
  if (hwc.length !== width * height * channels) {
    throw new RangeError(`Expected ${width}×${height}×${channels} = ${width * height * channels} values but got ${hwc.length}`);
  }
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(hwc.length);
  const out = new Float32Array(hwc.length);
  const xs = Array.from({ length: width + 2 * r }, (_, i) => reflect(i - r, width));
  const ys = Array.from({ length: height + 2 * r }, (_, i) => reflect(i - r, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) s += k[t]! * hwc[(y * width + xs[x + t]!) * channels + c]!;
        tmp[(y * width + x) * channels + c] = s;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let t = 0; t < k.length; t++) s += k[t]! * tmp[(ys[y + t]! * width + x) * channels + c]!;
        out[(y * width + x) * channels + c] = s;
      }
    }
  }
  return out;
}
