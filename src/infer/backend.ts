import type { FusedScorer } from '../score/fused.js';

/**
 * The inference back-end contract (ONNX Runtime, TensorRT, …): planar float tensors in, reconstruction out.
 * Inputs and output are NCHW with N = 1 and values of RGB in [0, 1]; ImageNet normalisation for the backbone
 * happens inside the network graph, so every back end is fed the same thing.
 */
export interface InferenceInputs {
  /** 1×3×H×W, RGB in [0, 1]. */
  image: Float32Array;
  /** 1×1×H×W, the edge map of the (grayscale) image in [0, 1]. */
  edge: Float32Array;
}

/**
 * What a run of a bundle with a feature bank (model config `featureBank`) yields: the reconstruction and the
 * nearest-normal distance map, 1×1×h×w at the bank's grid (stride 8).
 */
export interface InferenceOutputs {
  recon: Float32Array;
  featureDistance?: Float32Array;
}

/** Map and score of one frame scored where it was inferred; the reconstruction (1×3×H×W) only when asked for. */
export interface ScoredInference {
  map: Float32Array;
  score: number;
  recon?: Float32Array;
}

export interface InferenceBackend {
  /** e.g. "onnxruntime-cpu", "onnxruntime-cuda", "tensorrt-fp16". */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /**
   * Runs that make progress at once (ONNX Runtime: its number of sessions). The Inspector keeps this many in
   * flight; more would only queue. Absent: 1.
   */
  readonly concurrency?: number;
  /**
   * Runs off the JS thread; resolves with the 1×3×H×W reconstruction (RGB, [0, 1] scale, not clamped) — or,
   * for a model with more outputs (a feature bank), with InferenceOutputs. Back ends written for bundles
   * without a bank keep returning the bare reconstruction.
   */
  run(inputs: InferenceInputs): Promise<Float32Array | InferenceOutputs>;
  /**
   * Frames one call can take (ONNX Runtime with a batchable model: `maxBatch`; TensorRT: up to its engine's batch
   * range). Absent or 1: no batching.
   * With it, `runBatch` infers up to that many frames in one run (one result per frame, in order, each as `run`
   * resolves it).
   */
  readonly maxBatch?: number;
  runBatch?(inputs: readonly InferenceInputs[]): Promise<(Float32Array | InferenceOutputs)[]>;
  /** Why the back end runs frames one at a time though batching was asked (model or back end). */
  readonly batchingOff?: string;
  /**
   * Optional (TensorRT with the CUDA kernels): inference and the fused score in one pass on the device, without
   * the reconstruction's round trip through the host; `options.recon` asks for it too. `scorer` validated its
   * options when it was made; its margin is applied to the returned score.
   */
  runScored?(inputs: InferenceInputs, scorer: FusedScorer, options?: { recon?: boolean }): Promise<ScoredInference>;
  /**
   * Optional (ONNX Runtime, a bundle whose feature fusion has α = 1): the feature bank's distance map alone
   * (1×1×h×w), from the graph pruned to it — the map of such a bundle reads nothing else, and the autoencoder was
   * two thirds of the recipe network's time (BENCHMARKS.md, "INT8 of the recipe network").
   */
  runFeatureDistance?(inputs: { image: Float32Array }): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** The outputs of a run, whichever form the back end resolved with. */
export function runOutputs(out: Float32Array | InferenceOutputs): InferenceOutputs {
  return out instanceof Float32Array ? { recon: out } : out;
}
