/**
 * `npm run bench:scoring`: the fused score (method.md §6) of one 256×256 input/reconstruction pair —
 * native ms/frame at 1 and 2 threads, the TypeScript reference ms/frame, and their ratio. Medians after
 * warm-up; the machines are shared, so compare the ratios of one run. Targets (issue 2): native 1 thread
 * ≤ 1.5 ms and ≥ 30× the TS reference.
 */
import { cpus, loadavg } from 'node:os';
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

/** Median wall ms per call, and process CPU ms per call (user + system, all threads): on a shared, loaded
 * machine the CPU time shows the work itself, the wall time what a caller waits. */
async function measure(runs: number, fn: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < Math.min(10, runs); i++) await fn();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return { wall: times[Math.floor(times.length / 2)]!, cpu: (cpu.user + cpu.system) / 1000 / runs };
}

const { input, recon } = pair();
const o = resolveScoringOptions({});
const params = { ...o, topkFraction: 0 };
console.log(`bench:scoring ${W}×${H}, scales ${o.scales}, windows ${o.structureWindow}/${o.colorWindow}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
const ts = await measure(5, () => fusedScoreRef(input, recon, W, H, o));
const tsMs = ts.wall;
console.log(`TS reference:          ${ts.wall.toFixed(2)} ms/frame wall (median), ${ts.cpu.toFixed(2)} ms CPU`);
const status = nativeStatus();
const addon = nativeAddon();
if (!addon) {
  console.log(`native: not loaded (${status.reason}); run \`npm run build:native\``);
  process.exit(1);
}
addon.setDevice('cpu');
const results: Record<string, { wall: number; cpu: number }> = {};
for (const threads of [1, 2]) {
  addon.setThreads(threads);
  const r = (results[threads] = await measure(200, () => addon.fusedScore(input, recon, W, H, params)));
  console.log(
    `native CPU ${threads} thread${threads > 1 ? 's' : ' '}:   ${r.wall.toFixed(3)} ms/frame wall (median), ${r.cpu.toFixed(3)} ms CPU  ` +
      `(${(ts.wall / r.wall).toFixed(0)}× the TS reference by wall time, ${(ts.cpu / r.cpu).toFixed(0)}× by CPU time)`,
  );
}
// The shading transfer's extra cost (scoring.shadingWindow 17, the magnetic-tile setting), 1 thread, at the
// bench size and at the demo model's 128²: what enabling it adds to each frame.
addon.setThreads(1);
const small = { input: input.subarray(0, 128 * 128 * 3), recon: recon.subarray(0, 128 * 128 * 3) };
for (const [w, h, a, b] of [[W, H, input, recon], [128, 128, small.input, small.recon]] as const) {
  const off = await measure(200, () => addon.fusedScore(a, b, w, h, params));
  const on = await measure(200, () => addon.fusedScore(a, b, w, h, { ...params, shadingWindow: 17 }));
  console.log(`shadingWindow 17, ${w}×${h}, 1 thread: ${on.wall.toFixed(3)} ms/frame wall vs ${off.wall.toFixed(3)} off (+${(on.wall - off.wall).toFixed(3)} ms)`);
}
addon.setThreads(2);
const info = addon.info();
if (info.cuda.available) {
  addon.setDevice('cuda');
  const gpu = await measure(200, () => addon.fusedScore(input, recon, W, H, params));
  console.log(`native CUDA (${info.cuda.deviceName}): ${gpu.wall.toFixed(3)} ms/frame wall incl. transfers`);
} else {
  console.log(`native CUDA: not measured (${info.cuda.compiled ? info.cuda.reason : 'addon built without CUDA'})`);
}
addon.setDevice('auto');
const one = results[1]!;
console.log(
  `targets (1 thread): ≤ 1.5 ms: wall ${one.wall <= 1.5 ? 'met' : 'NOT met'}, CPU ${one.cpu <= 1.5 ? 'met' : 'NOT met'}; ` +
    `≥ 30× TS: wall ${tsMs / one.wall >= 30 ? 'met' : 'NOT met'}, CPU ${ts.cpu / one.cpu >= 30 ? 'met' : 'NOT met'}; ` +
    `load average now ${loadavg().map((v) => v.toFixed(1)).join(' ')}`,
);
