// The arm64 smoke scenario: computes, with whatever architecture runs it, everything the comparison checks,
// and writes it to --out. Run once by the host's x86 Node (the reference) and once by the arm64 Node under
// qemu (scripts/test-arm64.sh); compare.smoke.mjs then holds the two against each other. Both read the same
// fixtures and bundle (made by prepare.mjs), so any difference comes from the architecture.
//
//   node scenario.mjs --run <dir from prepare.mjs> --out <dir> --parts kernels,inspect
//
// It imports the package's compiled dist/ from the application folder it was copied into (../../dist),
// where build/Release holds that architecture's addon and node_modules that architecture's dependencies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, readArray, readJson, writeArray, writeJson } from './io.mjs';

const args = parseArgs(process.argv.slice(2));
const run = args.run;
const out = args.out;
const parts = new Set((args.parts ?? 'kernels,inspect').split(','));
if (!run || !out) throw new Error('usage: scenario.mjs --run <dir> --out <dir> [--parts kernels,inspect]');
const fixtures = readJson(join(run, 'fixtures.json'));
const results = {
  arch: process.arch,
  platform: process.platform,
  node: process.version,
  parts: [...parts],
  // How run-emulated.sh gave onnxruntime an ARM /proc/cpuinfo (namespace or preload); null on x86.
  cpuinfoFix: process.env.MMAEREC_ARM64_CPUINFO_FIX ?? null,
};
const t0 = performance.now();

// Loading the package is the first check: every module of the runtime API, through the package entry.
const pkg = await import('../../dist/index.js');
const { nativeAddon, nativeStatus } = await import('../../dist/native.js');
results.exports = Object.keys(pkg).sort();
// The addon must be this application folder's build/Release one (the architecture under test).
results.appDir = fileURLToPath(new URL('../..', import.meta.url));
results.native = { ...nativeStatus(), info: nativeAddon()?.info() ?? null };

const sharp = (await import('sharp')).default;
results.sharp = { versions: sharp.versions.sharp, vips: sharp.versions.vips };
// onnxruntime-node's arm64 library crashes at load under qemu without an ARM /proc/cpuinfo (run-emulated.sh
// --ort), so it is loaded only for the inspection part.
if (parts.has('inspect')) {
  const ort = await import('onnxruntime-node');
  results.onnxruntime = { loaded: typeof ort.InferenceSession?.create === 'function' };
}

results.timing = { loadSeconds: (performance.now() - t0) / 1000 };
if (parts.has('kernels')) results.kernels = await timed('kernelsSeconds', kernels);
if (parts.has('inspect')) results.inspect = await timed('inspectSeconds', inspect);
results.seconds = (performance.now() - t0) / 1000;
writeJson(join(out, 'results.json'), results);
const timing = Object.entries(results.timing).map(([k, v]) => `${k.replace('Seconds', '')} ${v.toFixed(1)} s`).join(', ');
console.log(`[arm64] scenario as ${process.arch}: native addon ${results.native.loaded ? 'loaded' : 'NOT loaded'}; ${timing}`);

async function timed(label, fn) {
  const start = performance.now();
  const value = await fn();
  results.timing[label] = (performance.now() - start) / 1000;
  return value;
}

async function kernels() {
  const { edgeMap } = await import('../../dist/preprocess/edge-map.js');
  const { fusedScore } = await import('../../dist/score/fused.js');
  const dir = join(out, 'kernels');
  const entries = [];
  for (const image of fixtures.images) {
    const { name, width, height } = image;
    const rgb = readArray(run, join('fixtures', image.rgb));
    const gray = readArray(run, join('fixtures', image.gray));
    const rgbFloat = readArray(run, join('fixtures', image.rgbFloat));
    const recon = readArray(run, join('fixtures', image.recon));
    const entry = { name, width, height, edge: {}, fused: {} };
    entry.edge.rgbU8 = writeArray(dir, `${name}.edge-rgb`, await edgeMap(rgb, width, height, 3));
    entry.edge.grayU8 = writeArray(dir, `${name}.edge-gray`, await edgeMap(gray, width, height, 1));
    entry.edge.rgbF32 = writeArray(dir, `${name}.edge-rgbf`, await edgeMap(rgbFloat, width, height, 3));
    for (const [label, options] of Object.entries(fixtures.scoringVariants)) {
      const { map, score } = await fusedScore(rgbFloat, recon, width, height, options);
      entry.fused[label] = { score, map: writeArray(dir, `${name}.fused-${label}`, map) };
    }
    entries.push(entry);
  }
  // Encoded-image decoding by this architecture's sharp/libvips (PNG is lossless: must be exact).
  const decoded = [];
  for (const image of fixtures.images) {
    const { data } = await sharp(readFileSync(image.path)).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    decoded.push({ name: image.name, rgb: writeArray(dir, `${image.name}.decoded`, new Uint8Array(data)) });
  }
  return { images: entries, decoded };
}

async function inspect() {
  const { Inspector } = await import('../../dist/pipeline/inspector.js');
  const dir = join(out, 'inspect');
  const inspector = await Inspector.create(join(run, 'bundle'), { backend: 'onnxruntime', device: 'cpu', threads: 1 });
  const frames = [];
  try {
    for (const frame of fixtures.frames) {
      const image = frame.encoded
        ? new Uint8Array(readFileSync(frame.path))
        : { width: frame.width, height: frame.height, channels: 3, data: readArray(run, join('fixtures', frame.raw)) };
      const analysis = await inspector.analyze({ id: frame.id, capturedAt: 0, image, origin: 'arm64-smoke' });
      const { result } = analysis;
      frames.push({
        id: frame.id,
        encoded: frame.encoded,
        verdict: result.verdict,
        score: result.score,
        imageThreshold: result.imageThreshold,
        pixelThreshold: result.pixelThreshold,
        backend: result.model.backend,
        regions: result.regions.map(({ x, y, width, height, area }) => ({ x, y, width, height, area })),
        mapWidth: analysis.mapWidth,
        mapHeight: analysis.mapHeight,
        input: writeArray(dir, `${frame.id}.input`, analysis.input),
        recon: writeArray(dir, `${frame.id}.recon`, analysis.recon),
        map: writeArray(dir, `${frame.id}.map`, analysis.map),
      });
    }
  } finally {
    await inspector.close();
  }
  return { frames };
}
