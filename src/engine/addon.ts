import { MmaerecError } from '../errors.js';
import { NATIVE_BUILD_FIX, type NativeFusedParams } from '../native.js';
import type { NativeBuildEvent } from './progress.js';

/**
 * The TensorRT part of the native addon (native/glue/tensorrt.h), typed. It exists only in an addon
 * compiled with TensorRT present (binding.gyp defines MMAEREC_WITH_TENSORRT=1); otherwise `loadTensorRT()` says why
 * and how to get it, and the back-end registry falls back to ONNX Runtime.
 */
export interface NativeDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemoryBytes: number;
  integrated: boolean;
}

/** Frames one inference takes: the engine's optimisation profile over the batch (1/1/1: a fixed batch of 1). */
export interface BatchRange {
  min: number;
  opt: number;
  max: number;
}

export interface NativeBuildOptions {
  onnxPath: string;
  planPath: string;
  fp16: boolean;
  int8: boolean;
  calibrationFile: string;
  calibrationCache: string;
  workspaceBytes: number;
  device: number;
  /** > 1: the ONNX at onnxPath has a dynamic batch and the engine gets the profile min 1 / opt = max = maxBatch. */
  maxBatch: number;
}

export interface NativeBuildReport {
  planPath: string;
  planBytes: number;
  width: number;
  height: number;
  batch: BatchRange;
  tensorrtVersion: string;
  calibrationSamples: number;
  calibrationCacheHit: boolean;
  seconds: number;
}

export interface NativeEngine {
  load(planPath: string, device: number): Promise<{ width: number; height: number; batch: BatchRange }>;
  /** n frames stacked along the batch (n = image.length / (3·H·W), within the loaded batch range) → n reconstructions, stacked. */
  infer(image: Float32Array, edge: Float32Array): Promise<Float32Array>;
  /**
   * Inference and the fused score in one pass on the GPU (native/glue/tensorrt_engine.cc): the reconstruction
   * stays on the device unless `wantRecon`. Only in addons built with the CUDA kernels as well as TensorRT.
   */
  inferScore?(image: Float32Array, edge: Float32Array, params: NativeFusedParams, wantRecon: boolean): Promise<{ map: Float32Array; score: number; recon?: Float32Array }>;
  dispose(): Promise<void>;
}

export interface TensorRTNative {
  version(): { headers: string; library: string };
  queryDevice(index: number): Promise<NativeDevice>;
  buildEngine(options: NativeBuildOptions, onEvent?: (event: NativeBuildEvent) => void): Promise<NativeBuildReport>;
  Engine: new () => NativeEngine;
}

export type TensorRTAvailability = { ok: true; trt: TensorRTNative } | { ok: false; reason: string };

/** How to get a TensorRT-enabled addon; appended to every "not available" message. */
export const HOW_TO_GET_TENSORRT =
  `on a Jetson install JetPack 6 (TensorRT 10.3; \`sudo apt install nvidia-jetpack\`), on x86 install TensorRT 10 and set TENSORRT_ROOT to it, then ${NATIVE_BUILD_FIX} (see docs/tensorrt.md)`;

/**
 * Picks the TensorRT interface out of a loaded addon (or explains its absence). Pure, so the fallback path is
 * testable without TensorRT: `addon` is the loaded module or undefined, `loadProblem` why it did not load.
 */
export function tensorrtFromAddon(addon: unknown, loadProblem?: string): TensorRTAvailability {
  if (addon === undefined || addon === null) {
    return { ok: false, reason: `the native addon is not loaded (${loadProblem ?? 'not built'}): ${HOW_TO_GET_TENSORRT}` };
  }
  const trt = (addon as { tensorrt?: unknown }).tensorrt;
  if (trt === undefined) {
    return { ok: false, reason: `the native addon was built without TensorRT (no TensorRT headers/libraries were found at build time): ${HOW_TO_GET_TENSORRT}` };
  }
  const t = trt as Partial<TensorRTNative>;
  if (typeof t.version !== 'function' || typeof t.queryDevice !== 'function' || typeof t.buildEngine !== 'function' || typeof t.Engine !== 'function') {
    return { ok: false, reason: `the native addon's TensorRT interface is incomplete (addon and package versions differ): ${NATIVE_BUILD_FIX} again` };
  }
  try {
    t.version();
  } catch (err) {
    return { ok: false, reason: `the TensorRT library does not load (${(err as Error).message}): check LD_LIBRARY_PATH holds TensorRT's lib directory` };
  }
  return { ok: true, trt: trt as TensorRTNative };
}

/** Throws E_UNSUPPORTED with the reason when TensorRT is not available; else returns its interface. */
export function requireTensorRT(availability: TensorRTAvailability, action: string): TensorRTNative {
  if (availability.ok) return availability.trt;
  throw new MmaerecError('E_UNSUPPORTED', `${action} needs TensorRT, but ${availability.reason}`);
}
