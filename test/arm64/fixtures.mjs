// Fixtures for the arm64 smoke suite, made once on x86 and read by both runs, so that both architectures
// compute from the same bytes: real images of the magnetic-tile data set (one per class) as RGB uint8, a
// grayscale copy, their float versions in [0, 1], and a deterministic stand-in "reconstruction" for the
// fused score (a 3×3 box blur with a per-channel gain, so the colour term sees real a/b differences).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeArray } from './io.mjs';

/** One image of each of these classes (the first by name), so the set has both good and defect surfaces. */
export const CLASSES = ['good', 'crack', 'blowhole', 'uneven'];

/** The data-set files the suite uses, in a fixed order. */
export function pickImages(dataset) {
  return CLASSES.map((cls) => {
    const dir = join(dataset, 'test', cls);
    let names;
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.png')).sort();
    } catch {
      throw new Error(`no ${dir}: point --dataset at the magnetic_tile folder (MVTec layout) of ../shared/datasets`);
    }
    if (names.length === 0) throw new Error(`${dir} has no PNG images: point --dataset at the magnetic_tile folder`);
    return { name: `${cls}-${names[0].replace(/\.png$/, '')}`, path: join(dir, names[0]) };
  });
}

const RECON_GAIN = [0.97, 1.0, 1.04];

function blurWithGain(rgb, width, height) {
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
            sum += rgb[(yy * width + xx) * 3 + c];
            n++;
          }
        }
        out[(y * width + x) * 3 + c] = Math.min(1, ((sum / n) / 255) * RECON_GAIN[c]);
      }
    }
  }
  return out;
}

/** Decodes the picked images on x86 and writes the fixture arrays; returns their JSON index. */
export async function writeKernelFixtures(dataset, dir) {
  const images = [];
  for (const { name, path } of pickImages(dataset)) {
    const { data, info } = await sharp(path).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const { width, height } = info;
    const gray = new Uint8Array(width * height);
    // One channel for edgeMap(…, 1): the green channel (the tiles are grayscale PNGs, so R = G = B).
    for (let i = 0; i < gray.length; i++) gray[i] = rgb[i * 3 + 1];
    const rgbFloat = Float32Array.from(rgb, (v) => v / 255);
    images.push({
      name, path, width, height,
      rgb: writeArray(dir, `${name}.rgb`, rgb),
      gray: writeArray(dir, `${name}.gray`, gray),
      rgbFloat: writeArray(dir, `${name}.rgbf`, rgbFloat),
      recon: writeArray(dir, `${name}.recon`, blurWithGain(rgb, width, height)),
    });
  }
  return images;
}
