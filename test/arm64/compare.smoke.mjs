// The arm64 smoke suite's checks (node:test, run by the host Node): holds the emulated arm64 run's outputs
// against the x86 reference, with the tolerances below (docs/jetson.md explains them).
//
//   node compare.smoke.mjs --x64 <x86 out dir> --arm64 <arm64 out dir>
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseArgs, readArray, readJson } from './io.mjs';

/** Tolerances, as maximum absolute differences unless stated. */
export const TOLERANCE = {
  /** uint8 edge maps are integer max − min of integer gray values: must be exact. */
  edgeU8: 0,
  /** float edge maps: gray = weighted sum of RGB, where FMA contraction may differ by an ulp. */
  edgeF32: 1e-6,
  /** fused score map (MSGMS, Lab, box filters in float/double; map values ~0..2). */
  fusedMap: 1e-5,
  /** image score, relative to max(1, |score|). */
  fusedScore: 1e-5,
  /**
   * ONNX Runtime's reconstruction, relative to its largest magnitude (a randomly initialised decoder outputs
   * small values, so an absolute bound would say nothing): MLAS has other kernels and summation orders on
   * aarch64 than on x86.
   */
  reconRelative: 1e-5,
  /** inspection map and score, which inherit the reconstruction's difference. */
  inspectMap: 2e-5,
  inspectScore: 2e-5,
  /** model input from an encoded PNG: libvips' Lanczos resize may round differently with other SIMD. */
  encodedInput: 1 / 255 + 1e-6,
};

const args = parseArgs(process.argv.slice(2));
const x64Dir = args.x64;
const armDir = args.arm64;
if (!x64Dir || !armDir) throw new Error('usage: compare.smoke.mjs --x64 <dir> --arm64 <dir>');
const x64 = readJson(join(x64Dir, 'results.json'));
const arm = readJson(join(armDir, 'results.json'));

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/** Compares the named arrays of both runs; reports the difference found, then asserts the tolerance. */
function within(t, label, sub, fileX, fileA, tolerance) {
  const d = maxAbsDiff(readArray(join(x64Dir, sub), fileX), readArray(join(armDir, sub), fileA));
  t.diagnostic(`${label}: max |arm64 − x86| = ${d.toExponential(2)} (tolerance ${tolerance})`);
  assert.ok(d <= tolerance, `${label}: max |arm64 − x86| = ${d} exceeds ${tolerance}`);
  return d;
}

test('the emulated run really ran as linux/arm64, the reference as x64', () => {
  assert.equal(arm.arch, 'arm64');
  assert.equal(arm.platform, 'linux');
  assert.equal(x64.arch, 'x64');
});

test('the package loads as aarch64 with the same public API and the native addon (not the TS fallback)', (t) => {
  t.diagnostic(`arm64 native: ${JSON.stringify(arm.native)}; ARM /proc/cpuinfo for onnxruntime by: ${arm.cpuinfoFix ?? 'none'}`);
  assert.deepEqual(arm.exports, x64.exports);
  for (const [label, run] of [['arm64', arm], ['x86', x64]]) {
    assert.equal(run.native.loaded, true, `${label}: the native addon did not load, so the TypeScript fallback ran: ${run.native.reason}`);
    assert.ok(run.native.path.startsWith(run.appDir), `${label}: the addon came from ${run.native.path}, not from ${run.appDir}`);
    assert.equal(run.native.info.cuda.compiled, false, `${label}: the addon under test was built with CUDA`);
  }
  if (arm.inspect) assert.equal(arm.onnxruntime?.loaded, true);
  assert.equal(arm.sharp.versions, x64.sharp.versions);
});

test('kernels ran on both architectures', () => {
  assert.ok(x64.kernels, 'the x86 reference has no kernel results');
  assert.ok(arm.kernels, 'the arm64 run has no kernel results');
  assert.equal(arm.kernels.images.length, x64.kernels.images.length);
  assert.ok(arm.kernels.images.length >= 4);
});

test('sharp decodes the PNGs identically on arm64', (t) => {
  for (const [i, x] of x64.kernels.decoded.entries()) {
    within(t, `${x.name} decode`, 'kernels', x.rgb, arm.kernels.decoded[i].rgb, 0);
  }
});

test('edgeMap: uint8 exact, float within tolerance, on real images', (t) => {
  for (const [i, x] of x64.kernels.images.entries()) {
    const a = arm.kernels.images[i];
    assert.equal(a.name, x.name);
    within(t, `${x.name} edge rgb u8`, 'kernels', x.edge.rgbU8, a.edge.rgbU8, TOLERANCE.edgeU8);
    within(t, `${x.name} edge gray u8`, 'kernels', x.edge.grayU8, a.edge.grayU8, TOLERANCE.edgeU8);
    within(t, `${x.name} edge rgb f32`, 'kernels', x.edge.rgbF32, a.edge.rgbF32, TOLERANCE.edgeF32);
  }
});

test('fusedScore: map and image score within tolerance, for each scoring variant', (t) => {
  for (const [i, x] of x64.kernels.images.entries()) {
    const a = arm.kernels.images[i];
    for (const [label, fx] of Object.entries(x.fused)) {
      const fa = a.fused[label];
      assert.ok(fa, `arm64 has no fused result ${label} for ${x.name}`);
      within(t, `${x.name} fused map (${label})`, 'kernels', fx.map, fa.map, TOLERANCE.fusedMap);
      const ds = Math.abs(fa.score - fx.score) / Math.max(1, Math.abs(fx.score));
      t.diagnostic(`${x.name} fused score (${label}): x86 ${fx.score}, arm64 ${fa.score}, relative difference ${ds.toExponential(2)}`);
      assert.ok(Number.isFinite(fa.score) && ds <= TOLERANCE.fusedScore, `${x.name} score ${fa.score} vs ${fx.score}`);
    }
  }
});

test('end-to-end inspection through ONNX Runtime: same reconstruction, map, score and verdict', { skip: !arm.inspect && 'the arm64 run did not include the inspection (see the SKIP line above)' }, (t) => {
  assert.ok(x64.inspect, 'the x86 reference has no inspection results');
  assert.equal(arm.inspect.frames.length, x64.inspect.frames.length);
  for (const [i, x] of x64.inspect.frames.entries()) {
    const a = arm.inspect.frames[i];
    assert.equal(a.id, x.id);
    assert.match(a.backend, /^onnxruntime/, `arm64 inspected ${a.id} with ${a.backend}`);
    assert.equal(a.backend, x.backend);
    assert.deepEqual([a.mapWidth, a.mapHeight], [x.mapWidth, x.mapHeight]);
    within(t, `${x.id} input`, 'inspect', x.input, a.input, x.encoded ? TOLERANCE.encodedInput : 0);
    const xRecon = readArray(join(x64Dir, 'inspect'), x.recon);
    const scale = xRecon.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0, `${x.id}: the x86 reconstruction is all zeros`);
    within(t, `${x.id} recon (largest |value| ${scale.toExponential(2)})`, 'inspect', x.recon, a.recon, TOLERANCE.reconRelative * scale);
    const mapDiff = within(t, `${x.id} map`, 'inspect', x.map, a.map, TOLERANCE.inspectMap);
    const ds = Math.abs(a.score - x.score);
    t.diagnostic(`${x.id} score: x86 ${x.score}, arm64 ${a.score}, |difference| ${ds.toExponential(2)}`);
    assert.ok(ds <= TOLERANCE.inspectScore, `${x.id} score ${a.score} vs ${x.score}`);
    // Verdict and regions must agree unless a value lies within the measured difference of its threshold.
    if (Math.abs(x.score - x.imageThreshold) > ds) assert.equal(a.verdict, x.verdict, `${x.id}: verdict differs (scores ${a.score} vs ${x.score})`);
    else t.diagnostic(`${x.id}: score within ${ds} of the image threshold; verdict not compared`);
    const xMap = readArray(join(x64Dir, 'inspect'), x.map);
    if (!xMap.some((v) => Math.abs(v - x.pixelThreshold) <= mapDiff)) assert.deepEqual(a.regions, x.regions, `${x.id}: regions differ`);
    else t.diagnostic(`${x.id}: map values within ${mapDiff} of the pixel threshold; regions not compared`);
  }
});
