import type { ModelProvenance, PipelineRecord } from '../../decide/result.js';
import type { ModelEventBody } from '../../publish/events.js';
import { Ring } from './ring.js';

/** The model serving the cameras now: its provenance and each camera's thresholds in force. */
export interface StationServing {
  provenance: ModelProvenance;
  /** `id`: the camera id the records and events carry (the `camera` of its topic path). */
  cameras: { id: string; image: number; pixel: number; source: string }[];
}

/** A bundle as the page names it: the same two fields a `mmaerec.model/1` event names it by. */
export type BundleRef = Pick<ModelProvenance, 'bundleName' | 'bundleSha256'>;

/** One camera as the page's model panel shows it. */
export interface StationCamera {
  id: string;
  /** Thresholds in force for this camera (the serving model's; before any, those of its latest frame). */
  imageThreshold?: number;
  pixelThreshold?: number;
  thresholdSource?: string;
  /** The bundle that produced this camera's latest inspected frame (absent before its first). */
  latest?: BundleRef;
}

export interface StationModels {
  /** Grows with every change the feed pushes: the page ignores an event older than its snapshot. */
  version: number;
  /** The model in service (the serving model; without one, the latest inspected frame's). */
  inService?: ModelProvenance;
  /** Cameras in config order, then any that only records named. */
  cameras: StationCamera[];
  /** The latest swap outcomes (`mmaerec.model/1` bodies: swapped or refused), oldest first. */
  swaps: ModelEventBody[];
}

/** Swap outcomes the panel lists: a line swaps rarely, and a storm of refusals must not grow the page. */
const SWAPS_KEPT = 8;

interface Latest {
  provenance: ModelProvenance;
  imageThreshold: number;
  pixelThreshold: number;
}

/**
 * What the page's model panel shows, per camera: the thresholds in force, the bundle that produced its latest
 * frame, the model in service and the latest swaps. `serving` is read on every snapshot (not copied at start),
 * so a swap or a bundle loaded again after a failure shows without being told twice.
 */
export class ModelPanel {
  private readonly latest = new Map<string, Latest>();
  private readonly swaps = new Ring<ModelEventBody>(SWAPS_KEPT);
  /** The latest inspected frame's bundle, of whichever camera. */
  private newest: ModelProvenance | undefined;
  private version = 0;

  constructor(private readonly serving: () => StationServing | undefined = () => undefined) {}

  /** Notes the bundle and thresholds of a camera's inspected frame; true when that changes what the panel shows. */
  observeRecord(camera: string, record: PipelineRecord): boolean {
    if (record.kind !== 'inspection') return false;
    const before = this.latest.get(camera);
    this.newest = record.model;
    this.latest.set(camera, { provenance: record.model, imageThreshold: record.imageThreshold, pixelThreshold: record.pixelThreshold });
    const changed = !before || before.provenance.bundleSha256 !== record.model.bundleSha256 || before.imageThreshold !== record.imageThreshold || before.pixelThreshold !== record.pixelThreshold;
    if (changed) this.version += 1;
    return changed;
  }

  observeSwap(event: ModelEventBody): void {
    this.swaps.push(event);
    this.version += 1;
  }

  snapshot(): StationModels {
    const serving = this.serving();
    const ids = [...new Set([...(serving?.cameras.map((c) => c.id) ?? []), ...this.latest.keys()])];
    const cameras = ids.map((id): StationCamera => {
      const inForce = serving?.cameras.find((c) => c.id === id);
      const latest = this.latest.get(id);
      const thresholds = inForce
        ? { imageThreshold: inForce.image, pixelThreshold: inForce.pixel, thresholdSource: inForce.source }
        : latest ? { imageThreshold: latest.imageThreshold, pixelThreshold: latest.pixelThreshold } : {};
      return { id, ...thresholds, ...(latest ? { latest: bundleRef(latest.provenance) } : {}) };
    });
    const inService = serving?.provenance ?? this.newest;
    return { version: this.version, ...(inService ? { inService } : {}), cameras, swaps: this.swaps.toArray() };
  }
}

export const bundleRef = (p: ModelProvenance): BundleRef => ({ bundleName: p.bundleName, bundleSha256: p.bundleSha256 });
