import type { CameraIds } from '../decide/result.js';
import type { Roi } from '../preprocess/roi.js';
import type { RunConfig, SourceConfig } from './schema.js';

/** One camera of a run, whichever form the config used (`source` or `sources:`). */
export interface CameraPlan {
  id: string;
  capture: SourceConfig;
  roi?: Roi;
  thresholds: { image?: number; pixel?: number };
  /**
   * The ids records of this camera carry (events, topics). Absent for the single `source` form: its records stay
   * exactly as before, and the sinks use their own line/station/camera.
   */
  ids?: CameraIds;
  /** The config path of its capture, for messages ("source", "sources[1].capture"). */
  field: string;
}

/** The cameras of a validated run config: one for `source`, one per entry of `sources`. */
export function camerasOf(config: RunConfig): CameraPlan[] {
  const mqtt = config.sinks.find((s) => s.type === 'mqtt');
  if (!config.sources) {
    return [{ id: mqtt?.camera ?? 'camera', capture: config.source!, roi: config.roi, thresholds: config.thresholds, field: 'source' }];
  }
  return config.sources.map((s, i) => {
    const [line, station, camera] = s.topic ? s.topic.split('/') : [mqtt?.line, mqtt?.station, s.id];
    const ids: CameraIds = { camera: camera!, ...(line !== undefined ? { line } : {}), ...(station !== undefined ? { station } : {}) };
    return { id: s.id, capture: s.capture, roi: s.roi, thresholds: s.thresholds ?? {}, ids, field: `sources[${i}].capture` };
  });
}
