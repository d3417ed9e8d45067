import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MmaerecError } from '../errors.js';
import type { LoadedBundle } from '../model/bundle.js';
import { featureDistanceAlone } from '../model/manifest.js';
import { assertFloat32Length } from '../util/is.js';
import { runOutputs, type InferenceBackend, type InferenceInputs, type InferenceOutputs } from './backend.js';
import type { BackendOptions } from './registry.js';
import { pruneOnnx } from '../model/prune-onnx.js';
import { withDynamicBatch } from './onnx-batch.js';
import { OrtWorkerSession } from './onnxruntime-session.js';

type Ort = typeof import('onnxruntime-node');

const require = createRequire(import.meta.url);

/**
 * Whether this onnxruntime-node install can use the CUDA execution provider: the build must list it and its
 * provider libraries must be present (the npm package ships them only after its CUDA download step).
 */
export function cudaAvailable(ort: Ort): { ok: boolean; reason: string } {
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return { ok: false, reason: `this onnxruntime-node build has no CUDA execution provider (${process.platform}-${process.arch}): use --backend tensorrt on a Jetson (docs/tensorrt.md)` };
  if (cuda.bundled) return { ok: true, reason: '' };
  const dir = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  for (const lib of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) {
    if (!existsSync(join(dir, lib))) {
      return { ok: false, reason: `onnxruntime-node's CUDA provider is not installed (${lib} missing: onnxruntime-node downloads it at install unless ONNXRUNTIME_NODE_INSTALL=skip; to get it, with network access: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)` };
    }
  }
  return { ok: true, reason: '' };
}

/**
 * ONNX Runtime back end (onnxruntime-node). CPU by default; CUDA when `device` is 'cuda', or when unset and
 * the install has the CUDA provider (a failed CUDA session falls back to CPU, with the reason in `fallback`).
 *
 * Each session lives in its own worker thread (onnxruntime-session.ts says why). With `sessions: n` the back
 * end holds n sessions of the same model and sends each run to the least busy one, so n frames infer at once:
 * on a 2-core controller two 1-thread sessions outran one 2-thread session by 14 % (BENCHMARKS.md, Pipeline),
 * because a single small-image run does not keep two intra-op threads busy.
 */
export async function createOnnxRuntimeBackend(bundle: LoadedBundle, options: BackendOptions = {}): Promise<InferenceBackend & { fallback?: string }> {
  let ort: Ort;
  let ortPath: string;
  try {
    ortPath = require.resolve('onnxruntime-node');
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw new MmaerecError('E_UNSUPPORTED', `onnxruntime-node cannot load (${(err as Error).message}): reinstall it with "npm install onnxruntime-node"`);
  }
  const { width, height } = bundle.manifest.input;
  const int8 = options.precision === 'int8';
  if (int8 && !bundle.paths.int8Onnx) {
    throw new MmaerecError('E_BUNDLE', `${bundle.dir} has no INT8 model: run "mmaerec-edge quantize --model ${bundle.dir} --calib <folder of good images>", or use precision fp32`);
  }
  if (int8 && options.device === 'cuda') {
    throw new MmaerecError('E_CONFIG', 'the INT8 model is for ONNX Runtime CPU (its integer kernels): use device cpu, or on the GPU a TensorRT INT8 engine (build-engine --int8)');
  }
  const base = {
    graphOptimizationLevel: 'all',
    // Idle ORT threads spin by default; on a 2-core controller that steals the cores that decode and score
    // the neighbouring frames (bench:pipeline under load: pipeline/bare fell to 58 % in a spiking run).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  };
  const attempts: { device: 'cpu' | 'cuda'; options: Record<string, unknown> }[] = [];
  let fallback: string | undefined;
  if (options.device !== 'cpu' && !int8) {
    const cuda = cudaAvailable(ort);
    if (cuda.ok) attempts.push({ device: 'cuda', options: { ...base, executionProviders: ['cuda'] } });
    else if (options.device === 'cuda') {
      throw new MmaerecError('E_UNSUPPORTED', `onnxruntime CUDA requested but unavailable (${cuda.reason}): install an onnxruntime-node build with CUDA, or use --device cpu`);
    } else fallback = cuda.reason;
  }
  if (options.device !== 'cuda') attempts.push({ device: 'cpu', options: { ...base, executionProviders: ['cpu'] } });

  const onnxPath = int8 ? bundle.paths.int8Onnx! : bundle.paths.onnx;
  // Batching needs the model with a symbolic batch (a copy in memory; the bundle's file is not changed).
  const maxBatch = options.maxBatch ?? 1;
  const batchable = maxBatch > 1 ? withDynamicBatch(await readFile(onnxPath)) : undefined;
  const batch = batchable?.ok ? maxBatch : 1;
  const spec = { ortPath, onnxPath, width, height, ...(batchable?.ok ? { onnxBytes: batchable.bytes } : {}) };
  const first = await OrtWorkerSession.start({ ...spec, attempts: attempts.map((a) => a.options) });
  const sessions = [first];
  const featureSessions: OrtWorkerSession[] = [];
  const allSessions = (): OrtWorkerSession[] => [...sessions, ...featureSessions];
  const closeAll = async (): Promise<void> => {
    await Promise.all(allSessions().map((s) => s.close()));
  };
  const device = attempts[first.attempt]!.device;
  if (first.failures.length) fallback = first.failures.join('; ');
  if (options.device === 'cuda' && device !== 'cuda') {
    await closeAll();
    throw new MmaerecError('E_UNSUPPORTED', `onnxruntime CUDA requested but failed (${fallback}): fix the CUDA install, or use --device cpu`);
  }
  const plane = width * height;
  let disposed = false;
  // A fusion with α = 1 reads the feature bank's distance map and nothing else: the same number of sessions of
  // the graph pruned to it serve runFeatureDistance (ORT computes every node of a graph, fetched or not).
  const featureOnly = featureDistanceAlone(bundle.manifest.featureFusion);

  function run(inputs: InferenceInputs): Promise<Float32Array | InferenceOutputs> {
    if (disposed) return Promise.reject(new MmaerecError('E_INFER', 'onnxruntime back end used after dispose(): create a new back end'));
    try {
      assertFloat32Length('inputs.image', inputs.image, 3 * plane);
      assertFloat32Length('inputs.edge', inputs.edge, plane);
    } catch (err) {
      return Promise.reject(err);
    }
    return leastBusy().run(inputs);
  }

  function leastBusy(pool: OrtWorkerSession[] = sessions): OrtWorkerSession {
    let best = pool[0]!;
    for (const s of pool) if (s.load < best.load) best = s;
    return best;
  }

  async function runFeatureDistance(inputs: { image: Float32Array }): Promise<Float32Array> {
    if (disposed) throw new MmaerecError('E_INFER', 'onnxruntime back end used after dispose(): create a new back end');
    assertFloat32Length('inputs.image', inputs.image, 3 * plane);
    return (await leastBusy(featureSessions).run({ image: inputs.image, edge: new Float32Array(0) })) as Float32Array;
  }

  /** Up to `batch` frames stacked into one run; one reconstruction per frame, in order. */
  async function runBatch(frames: readonly InferenceInputs[]): Promise<(Float32Array | InferenceOutputs)[]> {
    if (disposed) throw new MmaerecError('E_INFER', 'onnxruntime back end used after dispose(): create a new back end');
    if (frames.length < 1 || frames.length > batch) throw new RangeError(`Expected 1..${batch} frames for runBatch but received ${frames.length}`);
    if (frames.length === 1) return [await run(frames[0]!)];
    const image = new Float32Array(frames.length * 3 * plane);
    const edge = new Float32Array(frames.length * plane);
    frames.forEach((f, i) => {
      assertFloat32Length(`inputs[${i}].image`, f.image, 3 * plane);
      assertFloat32Length(`inputs[${i}].edge`, f.edge, plane);
      image.set(f.image, i * 3 * plane);
      edge.set(f.edge, i * plane);
    });
    const out = runOutputs(await leastBusy().run({ image, edge }, frames.length));
    // Each output splits evenly along the batch: frame i's part is the i-th of n equal slices.
    const slice = (a: Float32Array, i: number): Float32Array => a.subarray((i * a.length) / frames.length, ((i + 1) * a.length) / frames.length);
    return frames.map((_, i) => (out.featureDistance ? { recon: slice(out.recon, i), featureDistance: slice(out.featureDistance, i) } : slice(out.recon, i)));
  }

  try {
    // The other sessions take the options that loaded the first, so that all run on the same device.
    const more = Math.max(1, options.sessions ?? 1) - 1;
    for (let i = 0; i < more; i++) sessions.push(await OrtWorkerSession.start({ ...spec, attempts: [attempts[first.attempt]!.options] }));
    if (featureOnly) {
      const featureSpec = { ...spec, onnxBytes: await featureBankGraph(onnxPath), featureDistanceOnly: true };
      for (let i = 0; i < sessions.length; i++) featureSessions.push(await OrtWorkerSession.start({ ...featureSpec, attempts: [attempts[first.attempt]!.options] }));
    }
    // Warm-up at load: the first run allocates and plans; do it before the first frame arrives.
    const warm = { image: new Float32Array(3 * plane).fill(0.5), edge: new Float32Array(plane) };
    await Promise.all(allSessions().map((s) => s.run(warm)));
  } catch (err) {
    await closeAll();
    throw err;
  }

  const backend: InferenceBackend & { fallback?: string } = {
    name: `onnxruntime-${device}${int8 ? '-int8' : ''}`,
    width,
    height,
    concurrency: sessions.length,
    run,
    maxBatch: batch,
    ...(batch > 1 ? { runBatch } : {}),
    ...(batchable && !batchable.ok ? { batchingOff: batchable.reason } : {}),
    ...(featureOnly ? { runFeatureDistance } : {}),
    async dispose() {
      if (disposed) return;
      disposed = true;
      // Settled now, whatever the workers still send.
      const error = new MmaerecError('E_INFER', 'onnxruntime back end disposed while a run was in flight: wait for runs before dispose()');
      for (const s of allSessions()) s.rejectPending(error);
      await closeAll();
    },
  };
  if (fallback) backend.fallback = fallback;
  return backend;
}

/** The bundle's graph pruned to `featureDistance`; a bundle whose manifest fuses a bank its ONNX lacks is refused. */
async function featureBankGraph(onnxPath: string): Promise<Uint8Array> {
  try {
    return pruneOnnx(await readFile(onnxPath), ['featureDistance']);
  } catch (err) {
    throw new MmaerecError('E_BUNDLE', `${onnxPath}: the manifest fuses a feature bank but the model has no featureDistance output (${(err as Error).message}): re-export the bundle with this SDK`);
  }
}
