import type { Frame } from '../capture/frame.js';
import type { ScoringEngine } from '../native.js';

/** The outcome of inspecting one frame: what sinks (JSON lines, MQTT, …) receive. */

export interface Region {
  /** Bounding box in original-frame pixels (after undoing ROI crop and resize). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Pixels above the pixel threshold, counted in original-frame pixels. */
  area: number;
  maxScore: number;
  meanScore: number;
}

/** The camera a record is about, in a cell (several sources): the ids of its topic path `<line>/<station>/<camera>`. */
export interface CameraIds {
  line?: string;
  station?: string;
  camera: string;
}

export interface StageLatency {
  decodeMs: number;
  preprocessMs: number;
  inferMs: number;
  scoreMs: number;
  totalMs: number;
}

export interface ModelProvenance {
  bundleName: string;
  /** sha256 of the bundle's manifest.json (which lists the sha256 of every other file). */
  bundleSha256: string;
  backend: string;
  /**
   * What computed the fused score: the native core on the CPU or on CUDA, or the TypeScript fallback (the addon
   * did not load: ≈ 5–50× slower). Set by the Inspector; absent only in records made elsewhere.
   */
  scoringEngine?: ScoringEngine;
}

export interface Heatmap {
  format: 'png' | 'jpeg';
  data: Uint8Array;
  width: number;
  height: number;
  /** Where the runner saved it, when a heatmap folder is configured. */
  path?: string;
}

/** Something that went wrong beside the verdict, which stands (e.g. the heatmap could not be rendered). */
export interface RecordWarning {
  kind: 'heatmap';
  /** One line naming the frame, the problem and the fix. */
  message: string;
}

export interface InspectionResult {
  kind: 'inspection';
  frameId: string;
  origin?: string;
  capturedAt: number;
  finishedAt: number;
  score: number;
  imageThreshold: number;
  pixelThreshold: number;
  verdict: 'ok' | 'defect';
  regions: Region[];
  heatmap?: Heatmap;
  /** Present only when something beside the verdict failed; the verdict, score and regions are still valid. */
  warnings?: RecordWarning[];
  latency: StageLatency;
  model: ModelProvenance;
  /** The camera of a cell (several sources) that took the frame; sinks use its ids for events and topics. */
  camera?: CameraIds;
}

/** A frame that could not be inspected; sinks receive it like a result, and the pipeline goes on. */
export interface ErrorRecord {
  kind: 'error';
  frameId: string;
  origin?: string;
  capturedAt: number;
  finishedAt: number;
  code: string;
  message: string;
  model?: ModelProvenance;
  camera?: CameraIds;
}

export type PipelineRecord = InspectionResult | ErrorRecord;

/** The ErrorRecord for a frame that could not be inspected (the one place that builds one). */
export function errorRecordFor(frame: Frame, code: string, message: string, model?: ModelProvenance): ErrorRecord {
  return {
    kind: 'error',
    frameId: frame.id,
    ...(frame.origin !== undefined ? { origin: frame.origin } : {}),
    capturedAt: frame.capturedAt,
    finishedAt: Date.now(),
    code,
    message,
    ...(model !== undefined ? { model } : {}),
  };
}
