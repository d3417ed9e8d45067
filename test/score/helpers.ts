import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DATASET } from '../helpers/require-tool.js';

/** Deterministic pseudo-random floats in [0, 1). */
export function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 8) / 16777216;
  }
  return out;
}

/** A smooth RGB image and a reconstruction with a local defect, like a real input/recon pair. */
export function imagePair(width: number, height: number, seed: number): { input: Float32Array; recon: Float32Array } {
  const noise = random(2 * width * height * 3, seed);
  const input = new Float32Array(width * height * 3);
  const recon = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 3 * (y * width + x) + c;
        const base = 0.5 + 0.3 * Math.sin(0.2 * x + 0.1 * c) * Math.cos(0.15 * y);
        input[i] = base + 0.05 * noise[i];
        const defect = x > width / 3 && x < width / 2 && y > height / 4 && y < height / 2;
        recon[i] = defect ? 0.9 * noise[input.length + i] : base + 0.05 * noise[input.length + i];
      }
    }
  }
  return { input, recon };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

export const datasetDir = DATASET;

/** A few real images: a good one and defective ones, decoded to float RGB [0, 1] at width×height. */
export async function realImages(width: number, height: number): Promise<Float32Array[]> {
  const files = [
    join(datasetDir, 'train', 'good', readdirSync(join(datasetDir, 'train', 'good')).sort()[0]!),
    ...['blowhole', 'crack'].map((d) => join(datasetDir, 'test', d, readdirSync(join(datasetDir, 'test', d)).sort()[0]!)),
  ];
  return Promise.all(
    files.map(async (f) => {
      const raw = await sharp(f).resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
      const rgb = new Float32Array(width * height * 3);
      const channels = raw.length / (width * height);
      for (let i = 0; i < width * height; i++) {
        for (let c = 0; c < 3; c++) rgb[3 * i + c] = raw[channels * i + (channels === 1 ? 0 : c)]! / 255;
      }
      return rgb;
    }),
  );
}
