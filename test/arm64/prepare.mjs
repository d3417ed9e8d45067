// Makes, on x86, what both runs of the arm64 smoke scenario read: kernel fixtures from real images, frames
// for the end-to-end inspection, and a tiny `lite`-family bundle (random weights: the check is that arm64
// computes what x86 computes, not that the model is good).
//
//   node prepare.mjs --dataset <magnetic_tile dir> --out <run dir>
import { readFileSync, rmSync } from 'node:fs';
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
const { Inspector } = await import('../../dist/pipeline/inspector.js');
const name = 'arm64-smoke';
const weights = heWeights((await createBundle({ config: SMOKE_CONFIG, seed: 7, name })).weights);

// Thresholds from this model on these frames (x86), so that the verdicts split and regions exist: the
// comparison then covers both verdicts and the region code, not only "ok, no regions".
const draftDir = join(out, 'bundle-draft');
await writeBundle(draftDir, await createBundle({ config: SMOKE_CONFIG, seed: 7, name, weights }));
const inspector = await Inspector.create(draftDir, { backend: 'onnxruntime', device: 'cpu', threads: 1 });
const scores = [];
const mapValues = [];
try {
  for (const frame of frames.filter((f) => f.encoded)) {
    const { result, map } = await inspector.analyze({ id: frame.id, capturedAt: 0, image: new Uint8Array(readFileSync(frame.path)) });
    scores.push(result.score);
    mapValues.push(...map);
  }
} finally {
  await inspector.close();
}
scores.sort((a, b) => a - b);
mapValues.sort((a, b) => a - b);
const thresholds = {
  image: (scores[1] + scores[2]) / 2,
  pixel: betweenValues(mapValues, 0.97),
  source: 'arm64 smoke: between the 2nd and 3rd of 4 x86 scores; x86 map p97',
};
await writeBundle(join(out, 'bundle'), await createBundle({ config: SMOKE_CONFIG, seed: 7, name, weights, thresholds }));
rmSync(draftDir, { recursive: true });

/** Midway between the sorted values' q-quantile and the next larger value: no map pixel sits on the threshold. */
function betweenValues(sorted, q) {
  const at = Math.floor(sorted.length * q);
  const above = sorted.find((v, i) => i > at && v > sorted[at]) ?? sorted[at] + 1e-3;
  return (sorted[at] + above) / 2;
}

/**
 * The seeded initialisation (conv std 0.02, BatchNorm at unit variance) shrinks activations layer by layer,
 * so the untrained network's reconstruction is ~1e-5 and the end-to-end comparison would test little.
 * Rescaling every convolution to He-normal magnitude (std √(2/fan-in)) and biasing the output conv to mid
 * grey keeps activations O(1) through backbone, memory, attention and decoder, as in a trained network.
 */
function heWeights(initial) {
  const weights = new Map();
  for (const [key, tensor] of initial) {
    const data = Float32Array.from(tensor.data);
    if (tensor.shape.length === 4) {
      const fanIn = tensor.shape[1] * tensor.shape[2] * tensor.shape[3];
      const std = Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
      const gain = std > 0 ? Math.sqrt(2 / fanIn) / std : 1;
      for (let i = 0; i < data.length; i++) data[i] *= gain;
    }
    if (key === 'decoder.out.bias') data.fill(0.5);
    weights.set(key, { shape: tensor.shape, data });
  }
  return weights;
}

writeJson(join(out, 'fixtures.json'), { images, frames, scoringVariants, config: SMOKE_CONFIG });
console.log(`[arm64] fixtures: ${images.length} images, ${frames.length} frames, bundle ${size}×${size}`);
