/** Box filter border rule: 'valid' averages the window's in-image pixels; 'zero' is sum / k² (zero padding). */
export type BorderRule = 'valid' | 'zero';

/**
 * Mean over a k×k window (k odd) centred on each pixel, in double precision. Separable: a horizontal
 * window sum, then a vertical one; for 'valid' the divisor is the number of in-image pixels of the window.
 */
export function boxMeanRef(plane: ArrayLike<number>, width: number, height: number, k: number, border: BorderRule): Float64Array {
  const r = (k - 1) / 2;
  const rows = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) s += plane[y * width + xx];
      rows[y * width + x] = s;
    }
  }
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(height - 1, y + r) - Math.max(0, y - r) + 1;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++) s += rows[yy * width + x];
      const cx = Math.min(width - 1, x + r) - Math.max(0, x - r) + 1;
      out[y * width + x] = border === 'valid' ? s / (cx * cy) : s / (k * k);
    }
  }
  return out;
}
