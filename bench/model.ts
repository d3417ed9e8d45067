/**
 * bench:model — the network alone: ONNX Runtime CPU ms/frame at 1 and 2 threads in FP32 and INT8 (the bundle's
 * `mmaerec-edge quantize` variant), and the tfjs forward on the best tfjs back end available here, for the `lite`
 * and `paper` presets and for trained bundles (default models/demo-lite); for a bundle with a feature bank also the
 * graph pruned to the bank's distance map against the whole graph.
 *
 *   npm run bench:model -- [--presets lite,paper] [--bundles models/demo-lite] [--calib examples/frames] [--runs 20] [--json]
 *
 * Preset bundles have random weights (speed does not depend on them) and are written to a temp folder; every bundle
 * (a copy, for --bundles) is quantised with `--calib` (8 images). FP32 and INT8 runs alternate, one each in turn, so
 * that a machine shared with other jobs loads both alike, and the speed-up (INT8 frames/s ÷ FP32 frames/s) is the
 * ratio of the two medians of the same run. ORT figures
 * are medians over `--runs` back-to-back runs after the warm-up that createBackend does; "loop stall" is the
 * largest event-loop delay seen during those runs (the session runs in a worker thread, so it should stay
 * near the idle figure printed with the machine line, which is what the machine's load alone causes). tfjs: median of 3 inference-mode forwards at batch 1 after one warm-up forward.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as TF from '@tensorflow/tfjs-core';
import { createBackend } from '../src/infer/registry.js';
import type { InferenceBackend } from '../src/infer/backend.js';
import { createBundle, loadBundle, loadBundleWeights, writeBundle, type LoadedBundle } from '../src/model/bundle.js';
import { quantizeBundle } from '../src/model/quantize/quantize-bundle.js';
import { presetConfig } from '../src/model/config.js';
import { pruneOnnx } from '../src/model/prune-onnx.js';
import { loadTfjs, TfjsNetwork, type Tf } from '../src/model/tfjs-executor.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const presets = arg('presets', 'lite,paper').split(',').filter(Boolean);
const trained = arg('bundles', 'models/demo-lite').split(',').filter(Boolean);
const calib = arg('calib', 'examples/frames');
const runs = Number(arg('runs', '20'));
const json = process.argv.includes('--json');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The best tfjs back end here: tfjs-node when installed, else wasm, else cpu. */
async function bestTfjs(): Promise<{ tf: Tf; name: string }> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    const tf = await import('@tensorflow/tfjs-core');
    if (await tf.setBackend('tensorflow')) return { tf, name: 'tensorflow (tfjs-node)' };
  } catch {
    // not installed (its install step downloads libtensorflow)
  }
  try {
    return { tf: await loadTfjs('wasm'), name: 'wasm' };
  } catch {
    return { tf: await loadTfjs('cpu'), name: 'cpu' };
  }
}

/** The largest event-loop delay while idle for `ms`: what the machine's load alone causes. */
async function idleStall(ms: number): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  return +(h.max / 1e6).toFixed(1);
}

const rows: Record<string, unknown>[] = [];
const idleStallMs = await idleStall(2000);
const dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-bench-model-'));

/** Median ms/frame of FP32 and INT8, runs alternating, and the largest event-loop stall over both. */
async function fp32AgainstInt8(fp32: InferenceBackend, int8: InferenceBackend, n: number, s: number) {
  const image = new Float32Array(3 * s * s).map(() => Math.random());
  const edge = new Float32Array(s * s).map(() => Math.random());
  const times = { fp32: [] as number[], int8: [] as number[] };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  for (let i = 0; i < n; i++) {
    for (const [key, backend] of [['fp32', fp32], ['int8', int8]] as const) {
      const t0 = performance.now();
      await backend.run({ image, edge });
      times[key].push(performance.now() - t0);
    }
  }
  loop.disable();
  return { fp32: median(times.fp32), int8: median(times.int8), stall: +(loop.max / 1e6).toFixed(1) };
}

async function benchOrt(label: string, bundle: LoadedBundle, n: number): Promise<void> {
  const t0 = performance.now();
  await quantizeBundle({ model: bundle.dir, calib, limit: 8 });
  const quantized = await loadBundle(bundle.dir);
  process.stderr.write(`${label}: quantised in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  for (const threads of [1, 2]) {
    const options = { backend: 'onnxruntime', device: 'cpu', threads } as const;
    const fp32 = await createBackend(quantized, options);
    const int8 = await createBackend(quantized, { ...options, precision: 'int8' });
    const r = await fp32AgainstInt8(fp32, int8, n, quantized.manifest.input.width);
    await Promise.all([fp32.dispose(), int8.dispose()]);
    const engine = `onnxruntime-node cpu, ${threads} thread(s)`;
    rows.push({ model: label, engine, precision: 'fp32', msPerFrame: +r.fp32.toFixed(1), runs: n, loopStallMs: r.stall });
    rows.push({ model: label, engine, precision: 'int8', msPerFrame: +r.int8.toFixed(1), runs: n, loopStallMs: r.stall, int8SpeedUp: +(r.fp32 / r.int8).toFixed(2) });
  }
}

/**
 * A bundle with a feature bank: the whole graph against the graph pruned to `featureDistance` (what a fusion
 * with α = 1 reads), both as plain ONNX Runtime sessions, runs alternating. ORT computes every node whatever is
 * fetched, so this is the cost the autoencoder adds to such a bundle.
 */
async function benchBankOnly(label: string, bundle: LoadedBundle, n: number): Promise<void> {
  const ort = await import('onnxruntime-node');
  const whole = await readFile(path.join(bundle.dir, 'model.onnx'));
  const s = bundle.manifest.input.width;
  const image = new ort.Tensor('float32', new Float32Array(3 * s * s).map(() => Math.random()), [1, 3, s, s]);
  const edge = new ort.Tensor('float32', new Float32Array(s * s).map(() => Math.random()), [1, 1, s, s]);
  for (const threads of [1, 2]) {
    const options = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    const full = await ort.InferenceSession.create(whole, options);
    const bank = await ort.InferenceSession.create(pruneOnnx(whole, ['featureDistance']), options);
    const times = { full: [] as number[], bank: [] as number[] };
    for (let i = 0; i < n + 3; i++) {
      for (const [key, session, feeds] of [['full', full, { image, edge }], ['bank', bank, { image }]] as const) {
        const t0 = performance.now();
        await session.run(feeds);
        if (i >= 3) times[key].push(performance.now() - t0); // the first runs warm up
      }
    }
    await Promise.all([full.release(), bank.release()]);
    const engine = `onnxruntime-node cpu (plain session), ${threads} thread(s)`;
    rows.push({ model: label, engine, precision: 'fp32, whole graph', msPerFrame: +median(times.full).toFixed(1), runs: n });
    rows.push({ model: label, engine, precision: 'fp32, feature bank only', msPerFrame: +median(times.bank).toFixed(1), runs: n, bankOnlySpeedUp: +(median(times.full) / median(times.bank)).toFixed(2) });
  }
}

try {
  const { tf, name: tfName } = await bestTfjs();
  for (const preset of presets) {
    const config = presetConfig(preset);
    const s = config.inputSize;
    const bundle = await writeBundle(path.join(dir, preset), await createBundle({ config }));
    await benchOrt(preset, bundle, preset === 'paper' ? Math.max(3, Math.round(runs / 4)) : runs);
    const image = new Float32Array(3 * s * s).map(() => Math.random());
    const edge = new Float32Array(s * s).map(() => Math.random());
    const net = new TfjsNetwork(tf, config, await loadBundleWeights(bundle));
    const x = tf.tensor4d(image, [1, s, s, 3]) as TF.Tensor4D;
    const e = tf.tensor4d(edge, [1, s, s, 1]) as TF.Tensor4D;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const out = net.forward(x, e, { training: false });
      await out.recon.data();
      tf.dispose([out.recon, ...out.addressing.map((a) => a.weights)]);
      if (i > 0) times.push(performance.now() - t0);
    }
    net.dispose();
    tf.dispose([x, e]);
    rows.push({ model: preset, engine: `tfjs ${tfName}`, precision: 'fp32', msPerFrame: +median(times).toFixed(1), runs: 3 });
  }
  for (const source of trained) {
    // A copy: quantising writes model.int8.onnx and a new manifest into the bundle.
    const copy = path.join(dir, `bundle-${path.basename(source)}`);
    await cp(source, copy, { recursive: true });
    const bundle = await loadBundle(copy);
    await benchOrt(source, bundle, runs);
    if (bundle.manifest.featureFusion) await benchBankOnly(source, bundle, runs);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const machine = `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, load avg ${loadavg()[0]!.toFixed(1)} at end, Node ${process.version}; idle event-loop stall over 2 s: ${idleStallMs} ms`;
if (json) {
  process.stdout.write(JSON.stringify({ machine, idleStallMs, rows }, null, 2) + '\n');
} else {
  process.stdout.write(`machine: ${machine}\n| model | engine | precision | ms/frame (median) | runs | max event-loop stall ms | INT8 frames/s ÷ FP32 | bank only ÷ whole graph frames/s |\n|---|---|---|---|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.model} | ${r.engine} | ${r.precision} | ${r.msPerFrame} | ${r.runs} | ${r.loopStallMs ?? '—'} | ${r.int8SpeedUp !== undefined ? `${r.int8SpeedUp}×` : '—'} | ${r.bankOnlySpeedUp !== undefined ? `${r.bankOnlySpeedUp}×` : '—'} |\n`);
}
