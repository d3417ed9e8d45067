import { runOutputs } from '../../src/infer/backend.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createBackend } from '../../src/infer/registry.js';
import { createBundle, loadBundleWeights, writeBundle } from '../../src/model/bundle.js';
import { presetConfig, type ModelConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/init.js';
import { seededRandom } from '../../src/util/random.js';
import { buildNetwork } from '../../src/model/network.js';
import { loadTfjs, TfjsNetwork, type Tf } from '../../src/model/tfjs-executor.js';

/**
 * The heart of the model issue: the tfjs executor (training) and the exported ONNX graph run in ONNX
 * Runtime (deployment) compute the same function of the same weights. Shared by the cpu and wasm test files.
 */
let tf: Tf;
let dir: string;

/** Loads tfjs on `backend` (set explicitly) and makes a scratch directory; returns the cleanup. */
export async function setupParity(backend: 'cpu' | 'wasm'): Promise<() => Promise<void>> {
  tf = await loadTfjs(backend);
  expect(tf.getBackend()).toBe(backend);
  dir = await mkdtemp(join(tmpdir(), `mmaerec-parity-${backend}-`));
  return () => rm(dir, { recursive: true, force: true });
}

function randomPlanes(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return new Float32Array(n).map(() => r());
}

/** NCHW planes → NHWC tensor. */
function nhwc(data: Float32Array, c: number, s: number) {
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, [1, c, s, s]), [0, 2, 3, 1]) as import('@tensorflow/tfjs-core').Tensor4D);
}

export async function checkParity(config: ModelConfig, name: string) {
  const s = config.inputSize;
  const graph = buildNetwork(config);
  const net = new TfjsNetwork(tf, config, initWeights(graph, 11));
  // Re-estimate every BatchNorm's running statistics (backbone included) on a random batch, so that the
  // inference-mode BatchNorms the comparison runs through carry non-trivial statistics.
  tf.tidy(() => {
    const img = tf.randomUniform([2, s, s, 3], 0, 1, 'float32', 5) as import('@tensorflow/tfjs-core').Tensor4D;
    const edge = tf.randomUniform([2, s, s, 1], 0, 1, 'float32', 6) as import('@tensorflow/tfjs-core').Tensor4D;
    net.forward(img, edge, { training: true, backboneBatchStats: true, momentum: 'cumulative' });
  });
  const weights = net.exportWeights();
  expect(weights.get(graph.params.find((p) => p.name.endsWith('running_var'))!.name)!.data.some((v) => v !== 1)).toBe(true);
  const bundle = await writeBundle(join(dir, name), await createBundle({ config, weights }));
  // The bundle's weights are exactly the trained ones.
  const back = await loadBundleWeights(bundle);
  for (const [k, t] of weights) {
    const a = back.get(k)!.data;
    expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(0);
  }

  const image = randomPlanes(3 * s * s, 21);
  const edge = randomPlanes(s * s, 22);
  const out = net.forward(nhwc(image, 3, s), nhwc(edge, 1, s), { training: false });
  const tfRecon = (await tf.transpose(out.recon, [0, 3, 1, 2]).data()) as Float32Array;
  const backend = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 2 });
  const ortRecon = runOutputs(await backend.run({ image, edge })).recon;
  await backend.dispose();

  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < tfRecon.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(tfRecon[i]! - ortRecon[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(tfRecon[i]!));
  }
  // Addressing weights: one per memory level, each pixel's weights sum to 1 (or are all zero after shrinkage).
  expect(out.addressing.map((a) => a.level)).toEqual(config.memory.levels);
  for (const a of out.addressing) {
    const sums = (await tf.sum(a.weights, 3).data()) as Float32Array;
    for (const v of sums) expect(Math.abs(v - 1) < 1e-5 || v === 0).toBe(true);
  }
  net.dispose();
  console.log(`parity ${name}: max |tfjs − ORT| = ${maxDiff.toExponential(2)}, max |recon| = ${maxAbs.toFixed(3)}`);
  return { maxDiff, maxAbs };
}

