/**
 * bench:model — the network alone: ONNX Runtime CPU ms/frame at 1 and 2 threads, and the tfjs forward on the
 * best tfjs back end available here, for the `lite` and `paper` presets.
 *
 *   npm run bench:model -- [--presets lite,paper] [--runs 20] [--json]
 *
 * Bundles have random weights (speed does not depend on them) and are written to a temp folder. ORT figures
 * are medians over `--runs` back-to-back runs after the warm-up that createBackend does; "loop stall" is the
 * largest event-loop delay seen during those runs (the session runs in a worker thread, so it should stay
 * near the idle figure printed with the machine line, which is what the machine's load alone causes). tfjs: median of 3 inference-mode forwards at batch 1 after one warm-up forward.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as TF from '@tensorflow/tfjs-core';
import { createBackend } from '../src/infer/registry.js';
import { createBundle, loadBundleWeights, writeBundle } from '../src/model/bundle.js';
import { presetConfig } from '../src/model/config.js';
import { loadTfjs, TfjsNetwork, type Tf } from '../src/model/tfjs-executor.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const presets = arg('presets', 'lite,paper').split(',');
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
try {
  const { tf, name: tfName } = await bestTfjs();
  for (const preset of presets) {
    const config = presetConfig(preset);
    const s = config.inputSize;
    const bundle = await writeBundle(path.join(dir, preset), await createBundle({ config }));
    const image = new Float32Array(3 * s * s).map(() => Math.random());
    const edge = new Float32Array(s * s).map(() => Math.random());
    for (const threads of [1, 2]) {
      const backend = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads });
      const n = preset === 'paper' ? Math.max(3, Math.round(runs / 4)) : runs;
      const times: number[] = [];
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await backend.run({ image, edge });
        times.push(performance.now() - t0);
      }
      loop.disable();
      await backend.dispose();
      rows.push({ preset, engine: `onnxruntime-node cpu, ${threads} thread(s)`, msPerFrame: +median(times).toFixed(1), runs: n, loopStallMs: +(loop.max / 1e6).toFixed(1) });
    }
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
    rows.push({ preset, engine: `tfjs ${tfName}`, msPerFrame: +median(times).toFixed(1), runs: 3 });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const machine = `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, load avg ${loadavg()[0]!.toFixed(1)} at end, Node ${process.version}; idle event-loop stall over 2 s: ${idleStallMs} ms`;
if (json) {
  process.stdout.write(JSON.stringify({ machine, idleStallMs, rows }, null, 2) + '\n');
} else {
  process.stdout.write(`machine: ${machine}\n| preset | engine | ms/frame (median) | runs | max event-loop stall ms |\n|---|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.preset} | ${r.engine} | ${r.msPerFrame} | ${r.runs} | ${r.loopStallMs ?? '—'} |\n`);
}
