/**
 * `npm run bench:eval`: the cost of the exact pixel metrics on a magnetic_tile-sized test split (default 583 maps
 * of 256×256 = 38 M pixels, ~0.5 % defect pixels in 392 images): the sort of all values with V8's native
 * Float32Array sort vs the radix sort eval uses, then the whole pixelMetrics (labelling, keys, radix sorts and the
 * one walk that yields pixel AUROC, AP and AUPRO). Synthetic data, so it needs no dataset.
 *   npm run bench:eval [-- --images 583 --size 256 --runs 3]
 */
import { parseArgs } from 'node:util';
import { pixelMetrics, type PixelSample } from '../src/eval/pixel-metrics.js';
import { sortFloat32 } from '../src/eval/radix.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '583' }, size: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } } });
const images = Number(values.images);
const size = Number(values.size);
const runs = Number(values.runs);

let seed = 1;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const samples: PixelSample[] = [];
for (let i = 0; i < images; i++) {
  const map = new Float32Array(size * size);
  const mask = new Uint8Array(size * size);
  for (let p = 0; p < map.length; p++) map[p] = rand();
  if (i >= Math.round(images * 0.33)) {
    const y0 = Math.floor(size * 0.4), x0 = Math.floor(size * 0.2) + (i % 30);
    for (let y = y0; y < y0 + Math.floor(size / 13); y++) for (let x = x0; x < x0 + Math.floor(size / 6.4); x++) { mask[y * size + x] = 1; map[y * size + x]! += 0.3; }
  }
  samples.push({ map, mask, width: size, height: size });
}
const all = new Float32Array(images * size * size);
samples.forEach((s, i) => all.set(s.map, i * size * size));

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => unknown) => { const t = performance.now(); fn(); return (performance.now() - t) / 1000; };
const native: number[] = [];
const radix: number[] = [];
const full: number[] = [];
for (let r = 0; r < runs; r++) {
  native.push(time(() => all.slice().sort()));
  radix.push(time(() => sortFloat32(all)));
  full.push(time(() => pixelMetrics(samples)));
}
const m = pixelMetrics(samples);
console.log(`pixels: ${(all.length / 1e6).toFixed(1)} M (${images} × ${size}²), defect pixels ${m.positives}, regions ${m.regions}; median of ${runs} runs`);
console.log(`sort all values, native Float32Array.sort: ${median(native).toFixed(2)} s`);
console.log(`sort all values, radix (sortFloat32):      ${median(radix).toFixed(2)} s  (${(median(native) / median(radix)).toFixed(1)}× faster)`);
console.log(`pixelMetrics (AUROC + AP + AUPRO, exact):  ${median(full).toFixed(2)} s  → AUROC ${m.auroc.toFixed(4)}, AP ${m.ap.toFixed(4)}, AUPRO ${m.aupro.toFixed(4)}`);
