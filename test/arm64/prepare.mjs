// Makes, on x86, what both runs of the arm64 smoke scenario read: kernel fixtures from real images, frames
// for the end-to-end inspection, and a tiny `lite`-family bundle (random weights: the check is that arm64
// computes what x86 computes, not that the model is good).
//
//   node prepare.mjs --dataset <magnetic_tile dir> --out <run dir>
import { join } from 'node:path';
import sharp from 'sharp';
import { writeKernelFixtures, pickImages } from './fixtures.mjs';
import { parseArgs, writeArray, writeJson } from './io.mjs';

const { dataset, out } = parseArgs(process.argv.slice(2));
if (!dataset || !out) throw new Error('usage: prepare.mjs --dataset <magnetic_tile dir> --out <run dir>');
const fixturesDir = join(out, 'fixtures');

/**
 * The smallest network of the lite topology that still has every block (backbone stem + 4 levels, memory on
 * all levels, coordinate attention, the full decoder): ResNet-18 at 1/8 width, 64×64 input.
 */
export const SMOKE_CONFIG = {
  inputSize: 64,
  backbone: { arch: 'resnet18', widthDivisor: 8, trainable: false },
  levelChannels: [8, 8, 16, 32],
  headChannels: 8,
  memory: { items: 10, shrink: 1, epsilon: 1e-12, levels: [0, 1, 2, 3] },
  attention: 'ca',
};

/** Scoring options the kernels are run with: the default, and one that takes the other branches. */
const scoringVariants = {
  default: {},
  zeroBorderTopk: { scales: 2, border: 'zero', structureWindow: 7, colorWindow: 5, aggregation: { kind: 'topk', fraction: 0.01 } },
};

const images = await writeKernelFixtures(dataset, fixturesDir);

// Frames: every picked image as its PNG bytes (decode + Lanczos resize by sharp on each architecture), and
// two as raw RGB already at the model size (the fast path with no libvips, so ONNX Runtime and the scoring
// see identical input on both architectures).
const size = SMOKE_CONFIG.inputSize;
const frames = images.map((image) => ({ id: `${image.name}-png`, encoded: true, path: image.path }));
for (const { name, path } of pickImages(dataset).slice(0, 2)) {
  const data = await sharp(path).toColourspace('srgb').resize(size, size, { fit: 'fill' }).raw().toBuffer();
  frames.push({ id: `${name}-raw`, encoded: false, width: size, height: size, raw: writeArray(fixturesDir, `${name}.frame`, new Uint8Array(data)) });
}

const { createBundle, writeBundle } = await import('../../dist/model/bundle.js');
const contents = await createBundle({ config: SMOKE_CONFIG, seed: 7, name: 'arm64-smoke' });
await writeBundle(join(out, 'bundle'), contents);

writeJson(join(out, 'fixtures.json'), { images, frames, scoringVariants, config: SMOKE_CONFIG });
console.log(`[arm64] fixtures: ${images.length} images, ${frames.length} frames, bundle ${size}×${size}`);
