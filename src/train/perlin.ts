/**
 * 2-D Perlin noise for DRAEM-style anomaly masks (method.md §5): gradient noise on a (resX+1)×(resY+1) lattice
 * of random unit gradients, smoothed with the quintic fade 6t⁵ − 15t⁴ + 10t³ (as DRAEM's rand_perlin_2d_np).
 * Unlike DRAEM's version it accepts sizes that are not multiples of the lattice resolution.
 */
import type { Rng } from './rng.js';

const fade = (t: number): number => t * t * t * (t * (t * 6 - 15) + 10);

/** Noise in about [−0.7, 0.7], row-major height×width. */
export function perlin2d(width: number, height: number, resX: number, resY: number, rng: Rng): Float32Array {
  const gx = new Float32Array((resX + 1) * (resY + 1));
  const gy = new Float32Array(gx.length);
  for (let i = 0; i < gx.length; i++) {
    const angle = 2 * Math.PI * rng.next();
    gx[i] = Math.cos(angle);
    gy[i] = Math.sin(angle);
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = (y * resY) / height;
    const cy = Math.floor(fy);
    const ty = fy - cy;
    const v = fade(ty);
    for (let x = 0; x < width; x++) {
      const fx = (x * resX) / width;
      const cx = Math.floor(fx);
      const tx = fx - cx;
      const u = fade(tx);
      const i00 = cy * (resX + 1) + cx;
      const i01 = i00 + 1;
      const i10 = i00 + resX + 1;
      const i11 = i10 + 1;
      const n00 = gx[i00]! * tx + gy[i00]! * ty;
      const n01 = gx[i01]! * (tx - 1) + gy[i01]! * ty;
      const n10 = gx[i10]! * tx + gy[i10]! * (ty - 1);
      const n11 = gx[i11]! * (tx - 1) + gy[i11]! * (ty - 1);
      const top = n00 + u * (n01 - n00);
      const bottom = n10 + u * (n11 - n10);
      out[y * width + x] = Math.SQRT2 * (top + v * (bottom - top));
    }
  }
  return out;
}

/**
 * A binary anomaly mask: Perlin noise with lattice scales 2^[minExp, maxExp) per axis, thresholded.
 * Returns 1 where noise > threshold. May be empty (as in DRAEM); the caller decides whether to redraw.
 */
export function perlinMask(
  width: number,
  height: number,
  rng: Rng,
  o: { minExp: number; maxExp: number; threshold: number },
): Uint8Array {
  const resX = 2 ** (o.minExp + rng.int(o.maxExp - o.minExp));
  const resY = 2 ** (o.minExp + rng.int(o.maxExp - o.minExp));
  const noise = perlin2d(width, height, resX, resY, rng);
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = noise[i]! > o.threshold ? 1 : 0;
  return mask;
}
