import type { Frame } from '../capture/frame.js';
import type { MapRegion } from '../decide/regions.js';

/**
 * What evaluation needs from one analysed frame: the image score and the anomaly map, plus the model input and
 * its reconstruction (HWC RGB in [0, 1] at model size) for the report's gallery. The inspector's `analyze`
 * yields exactly this (src/pipeline/inspector.ts, `Analysis`), so eval scores images through the same code
 * path as the line; the non-learned blur reference (reference.ts) yields the same shape.
 */
export interface EvalAnalysis {
  score: number;
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  input: Float32Array;
  recon: Float32Array;
  /** Regions at the analyzer's pixel threshold, in map pixels (absent without thresholds). */
  regions?: MapRegion[];
}

export interface EvalAnalyzer {
  /** One line for reports: the bundle name, hash and back end, or the reference's definition. */
  readonly description: string;
  /** Provenance for metrics.json (bundle name, sha256, back end, …). */
  readonly provenance: Record<string, unknown>;
  /** The thresholds in force (from the bundle manifest), when there are any. */
  readonly thresholds?: { image: number; pixel: number; source: string };
  analyze(frame: Frame): Promise<EvalAnalysis>;
  close(): Promise<void>;
}
