/**
 * Test fixtures: a tiny dataset in MVTec AD layout (grey tiles, defects as bright squares, varying sizes,
 * grayscale and colour files) and a small analyzer that really computes a map from the decoded image
 * (|gray − background|), so evaluation runs end to end without a trained model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Frame } from '../../src/capture/frame.js';
import type { EvalAnalysis, EvalAnalyzer } from '../../src/eval/analyzer.js';

export interface Square { x: number; y: number; size: number }

async function png(path: string, width: number, height: number, channels: 1 | 3, fill: (x: number, y: number) => number): Promise<void> {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = fill(x, y);
  }
  await writeFile(path, await sharp(data, { raw: { width, height, channels } }).png().toBuffer());
}

/** Writes the dataset; returns the root. Defect strength decides how separable the classes are. */
export async function writeSyntheticDataset(root: string, opts: { good?: number; perDefect?: number; unmasked?: number } = {}): Promise<string> {
  const good = opts.good ?? 4;
  const per = opts.perDefect ?? 3;
  for (const d of ['train/good', 'test/good', 'test/spot', 'test/scratch', 'ground_truth/spot', 'ground_truth/scratch']) {
    await mkdir(join(root, d), { recursive: true });
  }
  let seed = 1;
  const noise = () => ((seed = (seed * 16807) % 2147483647) % 9) - 4;
  for (let i = 0; i < 2; i++) await png(join(root, 'train/good', `t${i}.png`), 40, 40, 1, () => 128 + noise());
  for (let i = 0; i < good; i++) {
    // one good image carries a faint blob: a false alarm candidate
    await png(join(root, 'test/good', `g${i}.png`), 40 + 8 * (i % 2), 40, i % 2 ? 3 : 1, (x, y) => 128 + noise() + (i === 1 && x > 30 && y < 6 ? 20 : 0));
  }
  for (const [kind, shape] of [['spot', (s: number) => ({ x: 10 + s * 4, y: 12, size: 6 + s })], ['scratch', (s: number) => ({ x: 4, y: 20 + s * 3, size: 3 })]] as const) {
    for (let i = 0; i < per; i++) {
      const sq: Square = shape(i);
      const w = kind === 'scratch' ? 48 : 40;
      const strength = 30 + 25 * i;
      const inside = (x: number, y: number) => kind === 'scratch' ? y >= sq.y && y < sq.y + 1 && x >= sq.x && x < w - 4 : x >= sq.x && x < sq.x + sq.size && y >= sq.y && y < sq.y + sq.size;
      await png(join(root, 'test', kind, `${kind}${i}.png`), w, 40, kind === 'spot' ? 3 : 1, (x, y) => 128 + noise() + (inside(x, y) ? strength : 0));
      if (i < per - (kind === 'spot' ? (opts.unmasked ?? 0) : 0)) {
        await png(join(root, 'ground_truth', kind, `${kind}${i}_mask.png`), w, 40, 1, (x, y) => (inside(x, y) ? 255 : 0));
      }
    }
  }
  return root;
}

/** Decodes to size×size gray, map = |gray − 128/255| box-smoothed 3×3, score = max; recon = flat grey. */
export function syntheticAnalyzer(size = 32): EvalAnalyzer & { calls: number } {
  return {
    description: 'synthetic test analyzer',
    provenance: { kind: 'test' },
    calls: 0,
    async analyze(frame: Frame): Promise<EvalAnalysis> {
      this.calls++;
      const { data } = await sharp(frame.image as Uint8Array).resize(size, size, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const input = Float32Array.from(data, (v) => v / 255);
      const dev = new Float32Array(size * size);
      for (let p = 0; p < dev.length; p++) dev[p] = Math.abs(input[p * 3]! - 128 / 255);
      const map = new Float32Array(size * size);
      let score = 0;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        let s = 0, n = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < size && xx >= 0 && xx < size) { s += dev[yy * size + xx]!; n++; }
        }
        map[y * size + x] = s / n;
        score = Math.max(score, s / n);
      }
      return { score, map, mapWidth: size, mapHeight: size, input, recon: new Float32Array(size * size * 3).fill(128 / 255) };
    },
    async close() {},
  };
}
