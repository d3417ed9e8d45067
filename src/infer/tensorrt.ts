import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { requireTensorRT, type TensorRTAvailability } from '../engine/addon.js';
import { checkEngineMetadata, checkPlanFile, rebuildHint, type EngineEnvironment } from '../engine/check.js';
import { loadTensorRT } from '../engine/load.js';
import { readEngineMetadata } from '../engine/metadata.js';
import { defaultPlanPath, metadataPathFor } from '../engine/options.js';
import { MmaerecError } from '../errors.js';
import type { LoadedBundle } from '../model/bundle.js';
import { assertFloat32Length } from '../util/is.js';
import type { InferenceBackend, InferenceInputs } from './backend.js';
import type { BackendEntry, BackendOptions } from './registry.js';

export interface TensorRTBackendOptions extends BackendOptions {
  /** The plan to load; default `<bundle>/engine.plan` (where build-engine writes by default). */
  engine?: string;
  /** CUDA device index (default 0). */
  gpu?: number;
  /** Overrides addon discovery (tests). */
  tensorrt?: TensorRTAvailability;
}

/**
 * TensorRT back end over the native addon: deserialises the plan once (device and pinned buffers, CUDA stream
 * allocated once in native/tensorrt/engine_runner.cc) and runs each frame with enqueueV3 on a worker thread.
 * Before loading, the engine's metadata is checked against the bundle, this GPU and this TensorRT version; a stale
 * engine is refused with the command that rebuilds it. Any failure here makes the registry fall back to ONNX Runtime.
 */
export async function createTensorRTBackend(bundle: LoadedBundle, options: TensorRTBackendOptions = {}): Promise<InferenceBackend> {
  if (options.device === 'cpu') {
    throw new MmaerecError('E_UNSUPPORTED', 'TensorRT runs on the GPU only and device "cpu" was asked: use the onnxruntime back end for CPU');
  }
  const trt = requireTensorRT(options.tensorrt ?? (await loadTensorRT()), 'the TensorRT back end');
  const planPath = options.engine ? resolve(options.engine) : defaultPlanPath(bundle.dir);
  if (!existsSync(planPath)) {
    throw new MmaerecError('E_ENGINE', `no TensorRT engine at ${planPath}: build one with \`npx mmaerec-edge build-engine --model ${bundle.dir}\``);
  }
  const gpuIndex = options.gpu ?? 0;
  const gpu = await trt.queryDevice(gpuIndex).catch((err: Error) => {
    throw new MmaerecError('E_UNSUPPORTED', `the TensorRT back end needs a CUDA GPU: ${err.message}`);
  });
  const { width, height } = bundle.manifest.input;
  const env: EngineEnvironment = {
    bundle: { dir: bundle.dir, sha256: bundle.sha256, width, height },
    gpu: { name: gpu.name, computeCapability: gpu.computeCapability },
    tensorrtVersion: trt.version().library,
  };
  const meta = await readEngineMetadata(metadataPathFor(planPath), rebuildHint(bundle.dir, planPath));
  checkEngineMetadata(meta, env, planPath);
  await checkPlanFile(meta, env, planPath);

  const engine = new trt.Engine();
  try {
    await engine.load(planPath, gpuIndex);
  } catch (err) {
    throw new MmaerecError('E_ENGINE', `${(err as Error).message}`, { cause: err });
  }
  const plane = width * height;
  let disposed = false;
  // The addon runs one inference at a time per engine (shared buffers); calls are chained, not rejected.
  let queue: Promise<unknown> = Promise.resolve();

  /**
   * One engine call, checked and chained behind the previous one: refused after dispose() and for inputs of the
   * wrong size, then run when the engine is free (a failed call does not block the next).
   */
  const enqueue = <T>(inputs: InferenceInputs, call: () => Promise<T>): Promise<T> => {
    if (disposed) return Promise.reject(new MmaerecError('E_INFER', 'TensorRT back end used after dispose(): create a new back end'));
    try {
      assertFloat32Length('inputs.image', inputs.image, 3 * plane);
      assertFloat32Length('inputs.edge', inputs.edge, plane);
    } catch (err) {
      return Promise.reject(err);
    }
    const result = queue.then(call);
    queue = result.catch(() => undefined);
    return result;
  };

  const run = (inputs: InferenceInputs): Promise<Float32Array> =>
    enqueue(inputs, () =>
      engine.infer(inputs.image, inputs.edge).catch((err: Error) => {
        throw new MmaerecError('E_INFER', `TensorRT inference failed (${err.message}): check the GPU (tegrastats / nvidia-smi) and restart`, { cause: err });
      }),
    );

  // Inference + GPU scoring in one pass, when the addon has the CUDA kernels too (Engine.inferScore).
  const inferScore = engine.inferScore?.bind(engine);
  const runScored: InferenceBackend['runScored'] = inferScore
    ? (inputs, scorer, options = {}) =>
        enqueue(inputs, async () => {
          const r = await inferScore(inputs.image, inputs.edge, scorer.nativeParams, options.recon === true).catch((err: Error) => {
            throw new MmaerecError('E_INFER', `TensorRT inference + GPU scoring failed (${err.message}): check the GPU (tegrastats / nvidia-smi) and restart`, { cause: err });
          });
          return { map: r.map, score: scorer.finishScore(r.map, r.score, width, height), ...(r.recon ? { recon: r.recon } : {}) };
        })
    : undefined;

  return {
    name: `tensorrt-${meta.precision}`,
    width,
    height,
    run,
    ...((options.maxBatch ?? 1) > 1 ? { batchingOff: 'the TensorRT engine runs one frame per inference here (engines are built for a batch of 1; a batch range needs an optimisation profile, docs/tensorrt.md)' } : {}),
    ...(runScored ? { runScored } : {}),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      await engine.dispose();
    },
  };
}

/** The registry entry: above ONNX Runtime (priority 10), so `auto` prefers a valid engine when there is one. */
export const tensorrtBackendEntry: BackendEntry = {
  name: 'tensorrt',
  priority: 100,
  create: (bundle, options) => createTensorRTBackend(bundle, options),
};
