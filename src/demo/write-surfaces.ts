import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEFECT_KINDS, defectiveSurface, goodSurface, type Surface } from './surfaces.js';

export interface SurfaceDatasetOptions {
  out: string;
  width: number;
  height: number;
  train: number;
  testGood: number;
  /** Test images per defect kind. */
  testDefect: number;
  seed: number;
}

async function writePng(surface: Surface, path: string): Promise<void> {
  await sharp(surface.rgb, { raw: { width: surface.width, height: surface.height, channels: 3 } }).png().toFile(path);
}

async function writeMask(surface: Surface, path: string): Promise<void> {
  await sharp(surface.mask, { raw: { width: surface.width, height: surface.height, channels: 1 } }).png().toFile(path);
}

/**
 * Writes a dataset of procedural surfaces in MVTec AD layout (train/good, test/good, test/<kind>,
 * ground_truth/<kind>/<stem>_mask.png). Seeds are disjoint between splits so no test image is a training one.
 */
export async function writeSurfaceDataset(o: SurfaceDatasetOptions): Promise<void> {
  const dirs = ['train/good', 'test/good', ...DEFECT_KINDS.flatMap((k) => [`test/${k}`, `ground_truth/${k}`])];
  for (const d of dirs) await mkdir(join(o.out, d), { recursive: true });
  const name = (i: number) => String(i).padStart(4, '0');
  for (let i = 0; i < o.train; i++) {
    await writePng(goodSurface(o.width, o.height, o.seed + i), join(o.out, 'train/good', `${name(i)}.png`));
  }
  const testBase = o.seed + 1_000_000;
  for (let i = 0; i < o.testGood; i++) {
    await writePng(goodSurface(o.width, o.height, testBase + i), join(o.out, 'test/good', `${name(i)}.png`));
  }
  for (const [k, kind] of DEFECT_KINDS.entries()) {
    for (let i = 0; i < o.testDefect; i++) {
      const s = defectiveSurface(o.width, o.height, testBase + 10_000 * (k + 1) + i, kind);
      await writePng(s, join(o.out, `test/${kind}`, `${name(i)}.png`));
      await writeMask(s, join(o.out, `ground_truth/${kind}`, `${name(i)}_mask.png`));
    }
  }
}
