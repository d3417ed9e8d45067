// Writes the sample frames in examples/frames: procedural surfaces (see src/demo/surfaces.ts), four good and
// one of each defect kind, at 192×192 like the demo bundle's training images (it resizes them to its input size).
// Usage: node --import tsx scripts/make-sample-frames.ts [--out examples/frames]
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFECT_KINDS, defectiveSurface, goodSurface, type Surface } from '../src/demo/surfaces.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'examples/frames' } } });
const out = values.out!;
await mkdir(out, { recursive: true });
const size = 192;
// Seeds far from the training seeds (make-surfaces uses 1.. for train, 1_000_000.. for test).
const base = 7_000_000;
const write = (s: Surface, name: string) =>
  sharp(s.rgb, { raw: { width: s.width, height: s.height, channels: 3 } }).png().toFile(join(out, name));
for (let i = 0; i < 4; i++) await write(goodSurface(size, size, base + i), `good-${i + 1}.png`);
for (const [k, kind] of DEFECT_KINDS.entries()) await write(defectiveSurface(size, size, base + 100 + k, kind), `${kind}-1.png`);
console.log(`wrote ${4 + DEFECT_KINDS.length} frames to ${out}`);
