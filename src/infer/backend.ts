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
  /** Runs off the JS thread; resolves with the 1×3×H×W reconstruction (RGB, [0, 1] scale, not clamped). */
  run(inputs: InferenceInputs): Promise<Float32Array>;
  dispose(): Promise<void>;
}
