import type { ModelProvenance } from '../decide/result.js';
import { createBackend } from '../infer/registry.js';
import { SharedBackend } from '../infer/shared-backend.js';
import { loadBundle, type LoadedBundle } from '../model/bundle.js';
import type { Roi } from '../preprocess/roi.js';
import { Inspector, type InspectorOptions } from './inspector.js';

/** What each camera of the cell asks of the model: its ROI and threshold overrides. */
export interface CameraView {
  id: string;
  roi?: Roi;
  thresholds?: { image?: number; pixel?: number };
}

/** Back end and inspection settings shared by every camera (the run config's backend and heatmap). */
export type ServeOptions = Omit<InspectorOptions, 'roi' | 'thresholds' | 'inferenceBackend'> & {
  maxBatch?: number;
  onBatch?: (size: number) => void;
};

/**
 * One bundle in service for a cell: one back end (shared, batching across cameras) and one Inspector per camera
 * over it, each with that camera's ROI and thresholds.
 */
export class ServedModel {
  private constructor(
    readonly bundle: LoadedBundle,
    readonly shared: SharedBackend,
    private readonly inspectors: ReadonlyMap<string, Inspector>,
    /** Why better back ends were skipped. */
    readonly skippedBackends: readonly { name: string; reason: string }[],
  ) {}

  /**
   * Loads and verifies the bundle (E_BUNDLE: missing, partial, tampered, bad manifest), creates its back end
   * (which runs once at load) and the cameras' inspectors. Releases what it made when any step fails.
   */
  static async load(bundle: string | LoadedBundle, cameras: readonly CameraView[], options: ServeOptions = {}): Promise<ServedModel> {
    const loaded = typeof bundle === 'string' ? await loadBundle(bundle) : bundle;
    const { maxBatch, onBatch, ...inspection } = options;
    const backend = await createBackend(loaded, { backend: inspection.backend, threads: inspection.threads, sessions: inspection.sessions, device: inspection.device, precision: inspection.precision, maxBatch });
    const shared = new SharedBackend(backend, { maxBatch, onBatch });
    const inspectors = new Map<string, Inspector>();
    try {
      for (const c of cameras) {
        inspectors.set(c.id, await Inspector.create(loaded, { ...inspection, roi: c.roi, thresholds: c.thresholds, inferenceBackend: shared.port(c.id) }));
      }
    } catch (err) {
      await Promise.allSettled([...inspectors.values()].map((i) => i.close()));
      await shared.dispose();
      throw err;
    }
    return new ServedModel(loaded, shared, inspectors, backend.skipped);
  }

  get provenance(): ModelProvenance {
    return this.inspectors.values().next().value!.provenance;
  }

  /** The thresholds in force per camera. */
  thresholds(camera: string): Inspector['thresholds'] {
    return this.inspector(camera).thresholds;
  }

  inspector(camera: string): Inspector {
    const i = this.inspectors.get(camera);
    if (!i) throw new RangeError(`Expected a camera of this cell but received "${camera}"`);
    return i;
  }

  /** Waits for the frames in flight on every camera, then releases the back end. */
  async close(): Promise<void> {
    try {
      await Promise.allSettled([...this.inspectors.values()].map((i) => i.close()));
    } finally {
      await this.shared.dispose();
    }
  }
}
