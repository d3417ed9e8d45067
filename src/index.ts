/**
 * mmaerec-edge public API. Importing this module loads no training code and no tfjs.
 */
export { MmaerecError, type ErrorCode } from './errors.js';
export type { Frame, RawImage } from './capture/frame.js';
export type { InferenceBackend, InferenceInputs } from './infer/backend.js';
export type { Sink } from './publish/sink.js';
export type * from './decide/result.js';
export { manifestSchema, type Manifest, type ScoringOptions, type Thresholds } from './model/manifest.js';
export { loadBundle, createBundle, writeBundle, loadBundleWeights, type LoadedBundle, type BundleContents, type CreateBundleOptions } from './model/bundle.js';
export { presetConfig, parseModelConfig, PRESETS, type ModelConfig, type PresetName } from './model/config.js';
export { createBackend, registerBackend, listBackends, type BackendOptions, type BackendEntry, type SelectedBackend, type SkippedBackend } from './infer/registry.js';
