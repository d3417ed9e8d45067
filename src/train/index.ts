/**
 * `mmaerec-edge/train`: the training API (loads tfjs; never imported by the inference runtime).
 *
 * ```ts
 * import { train } from 'mmaerec-edge/train';
 * const result = await train({ data: 'good/', out: 'bundle/', preset: 'lite', steps: 2000 });
 * ```
 */
export { train, resolveModelConfig, type TrainResult, type TrainHooks } from './trainer.js';
export { parseTrainOptions, trainOptionsSchema, NO_PRETRAINED_STRATEGIES, type TrainOptions, type TrainOptionsInput, type NoPretrainedStrategy } from './options.js';
export { selectTrainBackend, describeBackend, type BackendChoice, type TrainBackendName, type TrainBackendRequest } from './backend.js';
export { registerWasmConvGradients } from './kernels/wasm-conv-grad.js';
export { DEFAULT_AUGMENT, synthesize, type AugmentOptions } from './augment.js';
export { ssim, reconstructionLoss, addressingEntropy, type LossTerms, type LossWeights } from './losses.js';
export { loadCheckpoint, CHECKPOINT_DIR, type Checkpoint, type CheckpointState } from './checkpoint.js';
export { thresholdsFromValidation } from './calibrate.js';
