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
export { imageAuroc, rocAuc, rocCurve, averagePrecision, bestF1Threshold, percentile, type RocCurve, type F1Choice } from './eval/metrics.js';
export { pixelMetrics, pixelAuroc, pixelAveragePrecision, aupro, type PixelSample, type PixelMetrics, type CurvePoints } from './eval/pixel-metrics.js';
export { evaluate, type EvaluateOptions, type EvaluationResult } from './eval/evaluate.js';
export { calibrate, type CalibrateOptions, type CalibrationResult, type CalibrationRule } from './eval/calibrate.js';
export { readDataset, type Dataset, type DatasetImage } from './eval/dataset.js';
export type { EvalAnalyzer, EvalAnalysis } from './eval/analyzer.js';
export { buildEngine, type BuiltEngine, type BuildEngineHooks } from './engine/build.js';
export { parseBuildEngineOptions, type BuildEngineOptions, type Precision } from './engine/options.js';
export { engineMetadataSchema, readEngineMetadata, type EngineMetadata } from './engine/metadata.js';
export type { BuildProgressEvent } from './engine/progress.js';
export { createTensorRTBackend, tensorrtBackendEntry, type TensorRTBackendOptions } from './infer/tensorrt.js';
export { MqttSink, type MqttSinkOptions, type MqttSinkStatus } from './publish/mqtt-sink.js';
export { mqttSinkOptionsSchema, parseMqttConfig, redactConfig, type MqttSinkConfig } from './publish/mqtt-config.js';
export { eventSchema, inspectionEventSchema, errorEventSchema, statusEventSchema, eventJsonSchemas, toEvent, newEventId, INSPECTION_SCHEMA, ERROR_SCHEMA, STATUS_SCHEMA, type MmaerecEvent, type InspectionEvent, type ErrorEvent, type StatusEvent, type EventContext } from './publish/events.js';
export { resolveTopics, DEFAULT_TOPIC_LAYOUT, type TopicLayout, type Topics, type PublishPolicy } from './publish/topics.js';
export { createSpool, type SpoolStore, type SpoolEntry, type SpoolOptions, type SpoolStats, type FsyncPolicy, type WhenFull } from './publish/spool/store.js';
export { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './publish/embedded-broker.js';
export type { Logger } from './publish/logger.js';
export { fusedScore, resolveScoringOptions } from './score/fused.js';
export { edgeMap } from './preprocess/edge-map.js';
export { regions, type MapRegion } from './decide/regions.js';
export { nativeStatus, type NativeStatus } from './native.js';
export { encodeNpyFloat32 } from './score/npy.js';
export { blurReference, type ReferenceOptions } from './eval/reference.js';
export { openBundleAnalyzer } from './eval/bundle-analyzer.js';
