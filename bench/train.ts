/**
 * bench:train — one training step (forward, backward, Adam) per tfjs back end and preset at batch 4.
 *
 *   npm run bench:train -- [--backends wasm,cpu] [--presets lite,paper] [--size N] [--steps 3] [--cpu-size 64] [--json]
 *
 * For each back end × preset: a network with random weights (speed does not depend on them), fixed random
 * inputs, one warm-up step (not for cpu), then the median of --steps timed steps. The stock `cpu` back end is slow enough
 * that it runs only the lite preset, at --cpu-size (default 64²), and wasm runs that same configuration too,
 * so the wasm/cpu ratio compares identical steps. The back end that trains also does the data work (synthetic
 * anomalies + edge map) on the JS thread; its time per batch is reported separately ("data").
 */
import * as tf from '@tensorflow/tfjs-core';
import { presetConfig, type ModelConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/init.js';
import { buildNetwork } from '../src/model/network.js';
import { TfjsNetwork } from '../src/model/tfjs-executor.js';
import { Adam } from '../src/train/adam.js';
import { selectTrainBackend, type TrainBackendName } from '../src/train/backend.js';
import { DEFAULT_AUGMENT, synthesize } from '../src/train/augment.js';
import { edgeOf } from '../src/train/batch.js';
import { reconstructionLoss } from '../src/train/losses.js';
import { Rng } from '../src/train/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const backends = arg('backends', 'wasm,cpu').split(',') as TrainBackendName[];
const presets = arg('presets', 'lite,paper').split(',') as ('lite' | 'paper')[];
const sizeOverride = process.argv.includes('--size') ? Number(arg('size', '0')) : undefined;
const cpuSize = Number(arg('cpu-size', '64'));
const steps = Number(arg('steps', '3'));
const json = process.argv.includes('--json');
const batch = 4;

interface Row {
  backend: string;
  preset: string;
  size: number;
  params: number;
  stepMs: number;
  dataMs: number;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function benchOne(backend: TrainBackendName, preset: 'lite' | 'paper', size: number, n: number): Promise<Row> {
  await selectTrainBackend(backend);
  const config: ModelConfig = presetConfig(preset, { inputSize: size });
  const graph = buildNetwork(config);
  const net = new TfjsNetwork(tf, config, initWeights(graph, 0));
  const trainable = new Map(graph.params.filter((p) => p.trainable).map((p) => [p.name, net.variables.get(p.name)!]));
  const adam = new Adam();
  const image = tf.randomUniform([batch, size, size, 3]) as tf.Tensor4D;
  const edge = tf.randomUniform([batch, size, size, 1]) as tf.Tensor4D;
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const { grads, value } = tf.variableGrads(() => {
      const r = net.forward(image, edge, { training: true });
      return reconstructionLoss(image, r.recon, r.addressing.map((a) => a.weights), 3, { ssim: 1, entropy: 2e-4 }).total;
    }, [...trainable.values()]);
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of trainable) if (grads[v.name]) named[name] = grads[v.name]!;
    adam.apply(trainable, named, 1e-4);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
    return performance.now() - t0;
  };
  // warm-up (wasm: kernel setup, first allocations); the pure-JS cpu back end has none worth minutes of waiting
  if (backend !== 'cpu') await step();
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await step());
  // data side of one batch: synthetic anomalies + edge maps on the JS thread
  const rng = new Rng(1);
  const img = new Float32Array(size * size * 3).map(() => rng.next());
  const tex = new Float32Array(size * size * 3).map(() => rng.next());
  const dt: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    for (let b = 0; b < batch; b++) await edgeOf(synthesize(img, tex, size, size, rng, DEFAULT_AUGMENT).input, size);
    dt.push(performance.now() - t0);
  }
  const params = graph.params.filter((p) => !p.buffer).reduce((s, p) => s + p.shape.reduce((a, d) => a * d, 1), 0);
  tf.dispose([image, edge]);
  adam.dispose();
  net.dispose();
  return { backend, preset, size, params, stepMs: median(times), dataMs: median(dt) };
}

const rows: Row[] = [];
for (const backend of backends) {
  for (const preset of presets) {
    if (backend === 'cpu' && preset !== 'lite') continue;
    const size = backend === 'cpu' ? cpuSize : (sizeOverride ?? presetConfig(preset).inputSize);
    const row = await benchOne(backend, preset, size, backend === 'cpu' ? 1 : steps);
    rows.push(row);
    if (!json) process.stderr.write(`${backend} ${preset} ${size}²: ${(row.stepMs / 1000).toFixed(2)} s/step\n`);
  }
  // the identical step the cpu back end runs, for the ratio
  if (backend === 'wasm' && backends.includes('cpu') && !(presets.includes('lite') && (sizeOverride ?? 128) === cpuSize)) {
    rows.push(await benchOne('wasm', 'lite', cpuSize, steps));
  }
}
const cpu = rows.find((r) => r.backend === 'cpu');
const wasmSame = rows.find((r) => r.backend === 'wasm' && r.preset === 'lite' && r.size === cpuSize);
const ratio = cpu && wasmSame ? cpu.stepMs / wasmSame.stepMs : undefined;
if (json) {
  process.stdout.write(JSON.stringify({ batch, rows, wasmOverCpu: ratio }, null, 2) + '\n');
} else {
  process.stdout.write(`| back end | preset | input | trainable+frozen params | step (fwd+bwd+Adam), batch ${batch} | data (anomalies + edge), batch ${batch} |\n|---|---|---|---|---|---|\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.backend} | ${r.preset} | ${r.size}² | ${(r.params / 1e6).toFixed(2)} M | ${(r.stepMs / 1000).toFixed(2)} s | ${r.dataMs.toFixed(0)} ms |\n`);
  }
  if (ratio) process.stdout.write(`\nwasm is ${ratio.toFixed(1)}× faster than the stock cpu back end on the same step (lite, ${cpuSize}², batch ${batch}).\n`);
}
