/**
 * `npm run bench:scoring`: the fused score (method.md §6) of one 256×256 input/reconstruction pair —
 * native ms/frame at 1 and 2 threads, the TypeScript reference ms/frame, and their ratio. Medians after
 * warm-up; the machines are shared, so compare the ratios of one run. Targets (issue 2): native 1 thread
 * ≤ 1.5 ms and ≥ 30× the TS reference.
 */
import { cpus } from 'node:os';
import { nativeAddon, nativeStatus } from '../src/native.js';
import { resolveScoringOptions } from '../src/score/fused.js';
import { fusedScoreRef } from '../src/score/reference/fused.js';

const W = 256;
const H = 256;

function pair(): { input: Float32Array; recon: Float32Array } {
  const input = new Float32Array(W * H * 3);
  const recon = new Float32Array(W * H * 3);
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < input.length; i++) {
    const px = Math.floor(i / 3);
    const base = 0.5 + 0.3 * Math.sin((px % W) * 0.05) * Math.cos(Math.floor(px / W) * 0.07);
    input[i] = base + 0.02 * rnd();
    recon[i] = base + 0.02 * rnd();
  }
  return { input, recon };
}

async function median(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(10, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const { input, recon } = pair();
const o = resolveScoringOptions({});
const params = { ...o, topkFraction: 0 };
console.log(`bench:scoring ${W}×${H}, scales ${o.scales}, windows ${o.structureWindow}/${o.colorWindow}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
const tsMs = await median(5, () => fusedScoreRef(input, recon, W, H, o));
console.log(`TS reference:          ${tsMs.toFixed(2)} ms/frame`);
const status = nativeStatus();
const addon = nativeAddon();
if (!addon) {
  console.log(`native: not loaded (${status.reason}); run \`npm run build:native\``);
  process.exit(1);
}
addon.setDevice('cpu');
const results: Record<string, number> = {};
for (const threads of [1, 2]) {
  addon.setThreads(threads);
  results[threads] = await median(200, () => addon.fusedScore(input, recon, W, H, params));
  console.log(`native CPU ${threads} thread${threads > 1 ? 's' : ' '}:   ${results[threads]!.toFixed(3)} ms/frame  (${(tsMs / results[threads]!).toFixed(0)}× the TS reference)`);
}
const info = addon.info();
if (info.cuda.available) {
  addon.setDevice('cuda');
  const gpu = await median(200, () => addon.fusedScore(input, recon, W, H, params));
  console.log(`native CUDA (${info.cuda.deviceName}): ${gpu.toFixed(3)} ms/frame incl. transfers`);
} else {
  console.log(`native CUDA: not measured (${info.cuda.compiled ? info.cuda.reason : 'addon built without CUDA'})`);
}
addon.setDevice('auto');
const ok1 = results[1]! <= 1.5;
const ok30 = tsMs / results[1]! >= 30;
console.log(`targets: 1 thread ≤ 1.5 ms: ${ok1 ? 'met' : 'NOT met'}; ≥ 30× TS: ${ok30 ? 'met' : 'NOT met'}`);
