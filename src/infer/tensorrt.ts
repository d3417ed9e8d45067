import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { requireTensorRT, type TensorRTAvailability } from '../engine/addon.js';
import { checkEngineMetadata, checkPlanFile, rebuildHint, type EngineEnvironment } from '../engine/check.js';
import { loadTensorRT } from '../engine/load.js';
import type { BatchRange } from '../engine/addon.js';
import { batchRangeText, readEngineMetadata, sameBatchRange, type EngineMetadata } from '../engine/metadata.js';
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
 *
 * An engine built with a batch range (`build-engine --max-batch n`) takes up to n frames per inference: with
 * `maxBatch` > 1 the back end offers `runBatch`, which stacks the frames along N and hands them to the engine in one
 * call (the native runner sets the input shape for their number), as the shared back end of a cell asks.
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
  let loaded: { batch: BatchRange };
  try {
    loaded = await engine.load(planPath, gpuIndex);
  } catch (err) {
    throw new MmaerecError('E_ENGINE', `${(err as Error).message}`, { cause: err });
  }
  if (!sameBatchRange(loaded.batch, meta.batch)) {
    await engine.dispose();
    throw new MmaerecError('E_ENGINE', `engine ${planPath} takes batches ${batchRangeText(loaded.batch)} but its metadata says ${batchRangeText(meta.batch)}: ${rebuildHint(bundle.dir, planPath)}`);
  }
  const plane = width * height;
  const batch = Math.min(options.maxBatch ?? 1, meta.batch.max);
  let disposed = false;
  // The addon runs one inference at a time per engine (shared buffers); calls are chained, not rejected.
  let queue: Promise<unknown> = Promise.resolve();

  /**
   * One engine call, checked and chained behind the previous one: refused after dispose() and for inputs of the
   * wrong size, then run when the engine is free (a failed call does not block the next).
   */
  const enqueue = <T>(frames: readonly InferenceInputs[], call: () => Promise<T>): Promise<T> => {
    if (disposed) return Promise.reject(new MmaerecError('E_INFER', 'TensorRT back end used after dispose(): create a new back end'));
    try {
      frames.forEach((f, i) => {
        const name = frames.length === 1 ? 'inputs' : `inputs[${i}]`;
        assertFloat32Length(`${name}.image`, f.image, 3 * plane);
        assertFloat32Length(`${name}.edge`, f.edge, plane);
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const result = queue.then(call);
    queue = result.catch(() => undefined);
    return result;
  };
  const inferFailed = (err: Error): never => {
    throw new MmaerecError('E_INFER', `TensorRT inference failed (${err.message}): check the GPU (tegrastats / nvidia-smi) and restart`, { cause: err });
  };

  const run = (inputs: InferenceInputs): Promise<Float32Array> => enqueue([inputs], () => engine.infer(inputs.image, inputs.edge).catch(inferFailed));

  /** Up to `batch` frames stacked along N in one engine call; one reconstruction per frame, in order. */
  const runBatch = (frames: readonly InferenceInputs[]): Promise<Float32Array[]> => {
    if (frames.length < 1 || frames.length > batch) return Promise.reject(new RangeError(`Expected 1..${batch} frames for runBatch but received ${frames.length}`));
    return enqueue(frames, async () => {
      const image = new Float32Array(frames.length * 3 * plane);
      const edge = new Float32Array(frames.length * plane);
      frames.forEach((f, i) => {
        image.set(f.image, i * 3 * plane);
        edge.set(f.edge, i * plane);
      });
      const recon = await engine.infer(image, edge).catch(inferFailed);
      if (recon.length !== frames.length * 3 * plane) {
        throw new MmaerecError('E_INFER', `TensorRT returned ${recon.length} floats for ${frames.length} frames of 3×${height}×${width}: rebuild the native addon (\`npm run build:native\`) so that it matches this package`);
      }
      return frames.map((_, i) => recon.subarray(i * 3 * plane, (i + 1) * 3 * plane));
    });
  };

  // Inference + GPU scoring in one pass, when the addon has the CUDA kernels too (Engine.inferScore).
  const inferScore = engine.inferScore?.bind(engine);
  const runScored: InferenceBackend['runScored'] = inferScore
    ? (inputs, scorer, options = {}) =>
        enqueue([inputs], async () => {
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
    maxBatch: batch,
    ...(batch > 1 ? { runBatch } : {}),
    ...((options.maxBatch ?? 1) > 1 && meta.batch.max === 1 ? { batchingOff: unbatchedEngine(meta, bundle.dir, planPath, options.maxBatch!) } : {}),
    ...(runScored ? { runScored } : {}),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      await engine.dispose();
    },
  };
}

/** Why a cell's frames run one at a time on this engine, with the build-engine command that batches them. */
function unbatchedEngine(meta: EngineMetadata, bundleDir: string, planPath: string, maxBatch: number): string {
  const precision = { fp32: '', fp16: ' --fp16', int8: ' --int8 --calib <good images>', 'int8+fp16': ' --int8 --fp16 --calib <good images>' }[meta.precision];
  return `the TensorRT engine ${planPath} was built for one frame per inference: rebuild it with \`npx mmaerec-edge build-engine --model ${bundleDir}${precision} --out ${planPath} --max-batch ${maxBatch}\` to infer the cameras' frames in one batch`;
}

/** The registry entry: above ONNX Runtime (priority 10), so `auto` prefers a valid engine when there is one. */
export const tensorrtBackendEntry: BackendEntry = {
  name: 'tensorrt',
  priority: 100,
  create: (bundle, options) => createTensorRTBackend(bundle, options),
};
