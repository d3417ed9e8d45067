/**
 * Synthetic anomalies for denoising training (method.md §5, EdgRec's "noDTD" variant): the network sees a
 * corrupted image and learns to reconstruct the clean one. All images are interleaved HWC RGB float32 in
 * [0, 1]; every random choice comes from the caller's seeded Rng, so a resumed run replays them exactly.
 */
import { perlinMask } from './perlin.js';
import type { Rng } from './rng.js';

export interface AugmentOptions {
  /** Probability of the Perlin-mask texture blend. */
  perlinP: number;
  /** Lattice scale exponents: 2^[minExp, maxExp) per axis (DRAEM: [0, 6)). */
  perlinMinExp: number;
  perlinMaxExp: number;
  perlinThreshold: number;
  /** Opacity of the original under the texture: β ∈ [0, betaMax) (DRAEM: 0.8). */
  betaMax: number;
  /** Random hue shift of the texture, in turns: ±hueShift. */
  hueShift: number;
  /** Random brightness factor of the texture: 1 ± brightnessShift. */
  brightnessShift: number;
  /** Probability of cut-paste of a rotated patch. */
  cutPasteP: number;
  /** Patch side as a fraction of the image side: [min, max) (EdgRec: 0.8–0.9). */
  cutPasteMinSize: number;
  cutPasteMaxSize: number;
  /** Patch rotation: ±degrees. */
  cutPasteMaxAngle: number;
  /** Probability of rotating the whole sample (input and target) by ±rotateMaxAngle degrees. */
  rotateP: number;
  rotateMaxAngle: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = {
  perlinP: 0.5,
  perlinMinExp: 0,
  perlinMaxExp: 6,
  perlinThreshold: 0.5,
  betaMax: 0.8,
  hueShift: 0.5,
  brightnessShift: 0.2,
  cutPasteP: 0.5,
  cutPasteMinSize: 0.8,
  cutPasteMaxSize: 0.9,
  cutPasteMaxAngle: 5,
  rotateP: 0,
  rotateMaxAngle: 90,
};

/** Bilinear sample of an HWC RGB image with clamped borders. */
function sample(img: Float32Array, w: number, h: number, x: number, y: number, out: Float32Array, o: number): void {
  const cx = Math.min(Math.max(x, 0), w - 1);
  const cy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  for (let c = 0; c < 3; c++) {
    const a = img[(y0 * w + x0) * 3 + c]!;
    const b = img[(y0 * w + x1) * 3 + c]!;
    const d = img[(y1 * w + x0) * 3 + c]!;
    const e = img[(y1 * w + x1) * 3 + c]!;
    out[o + c] = (a + (b - a) * fx) * (1 - fy) + (d + (e - d) * fx) * fy;
  }
}

/** Rotates the whole image about its centre (bilinear, clamped borders). */
export function rotateImage(img: Float32Array, w: number, h: number, degrees: number): Float32Array {
  const out = new Float32Array(img.length);
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      const dy = y - cy;
      sample(img, w, h, cx + cos * dx + sin * dy, cy - sin * dx + cos * dy, out, (y * w + x) * 3);
    }
  }
  return out;
}

/** Hue rotation (turns) and brightness scaling through HSV, clamped to [0, 1]. */
export function shiftHueBrightness(img: Float32Array, hueTurns: number, brightness: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i += 3) {
    const r = img[i]!;
    const g = img[i + 1]!;
    const b = img[i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = max - min;
    let hue = 0;
    if (d > 0) {
      if (max === r) hue = ((g - b) / d) % 6;
      else if (max === g) hue = (b - r) / d + 2;
      else hue = (r - g) / d + 4;
      hue /= 6;
    }
    hue = (((hue + hueTurns) % 1) + 1) % 1;
    const s = max > 0 ? d / max : 0;
    const v = Math.min(max * brightness, 1);
    const h6 = hue * 6;
    const k = Math.floor(h6);
    const f = h6 - k;
    const p = v * (1 - s);
    const q = v * (1 - s * f);
    const t = v * (1 - s * (1 - f));
    let r2: number, g2: number, b2: number;
    switch (k % 6) {
      case 0: r2 = v; g2 = t; b2 = p; break;
      case 1: r2 = q; g2 = v; b2 = p; break;
      case 2: r2 = p; g2 = v; b2 = t; break;
      case 3: r2 = p; g2 = q; b2 = v; break;
      case 4: r2 = t; g2 = p; b2 = v; break;
      default: r2 = v; g2 = p; b2 = q;
    }
    out[i] = r2;
    out[i + 1] = g2;
    out[i + 2] = b2;
  }
  return out;
}

/**
 * DRAEM blend inside a Perlin mask M: out = img·(1−M) + (1−β)·tex·M + β·img·M, texture hue/brightness-shifted.
 * Returns the number of masked pixels (0 leaves the image unchanged).
 */
export function blendPerlinTexture(img: Float32Array, texture: Float32Array, w: number, h: number, rng: Rng, o: AugmentOptions): number {
  const mask = perlinMask(w, h, rng, { minExp: o.perlinMinExp, maxExp: o.perlinMaxExp, threshold: o.perlinThreshold });
  const tex = shiftHueBrightness(texture, rng.uniform(-o.hueShift, o.hueShift), 1 + rng.uniform(-o.brightnessShift, o.brightnessShift));
  const beta = rng.uniform(0, o.betaMax);
  let n = 0;
  for (let p = 0; p < w * h; p++) {
    if (!mask[p]) continue;
    n++;
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      img[i] = (1 - beta) * tex[i]! + beta * img[i]!;
    }
  }
  return n;
}

/** Cuts a square patch, rotates it by a few degrees and pastes it at another random place (in place). */
export function cutPasteRotated(img: Float32Array, w: number, h: number, rng: Rng, o: AugmentOptions): void {
  const side = Math.max(2, Math.round(Math.min(w, h) * rng.uniform(o.cutPasteMinSize, o.cutPasteMaxSize)));
  const sx = rng.int(w - side + 1);
  const sy = rng.int(h - side + 1);
  const dx = rng.int(w - side + 1);
  const dy = rng.int(h - side + 1);
  const t = (rng.uniform(-o.cutPasteMaxAngle, o.cutPasteMaxAngle) * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const src = img.slice();
  const half = (side - 1) / 2;
  const px = new Float32Array(3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      // inverse-rotate the destination pixel into the source patch; skip corners outside it
      const u = cos * (x - half) + sin * (y - half) + half;
      const v = -sin * (x - half) + cos * (y - half) + half;
      if (u < 0 || v < 0 || u > side - 1 || v > side - 1) continue;
      sample(src, w, h, sx + u, sy + v, px, 0);
      const o3 = ((dy + y) * w + dx + x) * 3;
      img[o3] = px[0]!;
      img[o3 + 1] = px[1]!;
      img[o3 + 2] = px[2]!;
    }
  }
}

/**
 * One training pair: `target` is the clean (possibly rotated) image, `input` the same with synthetic anomalies.
 * `texture` is another training image (the noDTD variant: no external texture set).
 */
export function synthesize(
  clean: Float32Array,
  texture: Float32Array,
  w: number,
  h: number,
  rng: Rng,
  o: AugmentOptions,
): { input: Float32Array; target: Float32Array } {
  let target = clean;
  if (o.rotateP > 0 && rng.next() < o.rotateP) {
    target = rotateImage(clean, w, h, rng.uniform(-o.rotateMaxAngle, o.rotateMaxAngle));
  }
  const input = target.slice();
  if (rng.next() < o.cutPasteP) cutPasteRotated(input, w, h, rng, o);
  if (rng.next() < o.perlinP) blendPerlinTexture(input, texture, w, h, rng, o);
  return { input, target };
}
