import type { Frame } from '../capture/frame.js';
import { assertMaxEdge, renderHeatmap, type HeatmapOptions } from '../decide/heatmap.js';
import { regionsToFrame } from '../decide/map-regions.js';
import { regions as findRegions, type MapRegion } from '../decide/regions.js';
import { errorRecordFor, type ErrorRecord, type InspectionResult, type ModelProvenance, type PipelineRecord, type RecordWarning } from '../decide/result.js';
import { thresholdsInForce, verdictFor, type ThresholdsInForce } from '../decide/verdict.js';
import { MmaerecError, isMmaerecError } from '../errors.js';
import { runOutputs, type InferenceBackend } from '../infer/backend.js';
import { createBackend, type Precision } from '../infer/registry.js';
import { loadBundle, type LoadedBundle } from '../model/bundle.js';
import { prepareFrame, prepareTiledFrame } from '../preprocess/preprocess.js';
import { stitchTiles, type TilingSpec } from '../preprocess/tiles.js';
import { combineTiles, fusedScoreTiles } from '../score/tiled.js';
import { assertRoi, type Roi } from '../preprocess/roi.js';
import { firstNonFinite, planarToHwc } from '../preprocess/tensors.js';
import { FusedScorer, resolveScoringOptions } from '../score/fused.js';
import { finishMap, fusedScoreWithFeatures, needsImageMap, type FeatureFusion, type FeatureInput } from '../score/feature-fusion.js';
import { scoringEngine } from '../native.js';
import { featureDistanceAlone, type ScoringOptions } from '../model/manifest.js';
import { printable } from '../util/printable.js';
import { Limiter } from './limiter.js';

export interface InspectorHeatmapOptions extends HeatmapOptions {
  /**
   * Which frames get a heatmap (default `off`). A heatmap that cannot be rendered never costs the frame its
   * verdict: the result carries a `heatmap` warning instead (and `mmaerec_heatmap_failures_total` counts it).
   */
  mode?: 'off' | 'defects' | 'all';
}

export interface InspectorOptions {
  /** Back end choice (default `auto`: TensorRT when registered and usable, else ONNX Runtime). */
  backend?: 'auto' | 'onnxruntime' | 'tensorrt';
  /** CPU threads for the back end (ONNX Runtime intra-op), per session. */
  threads?: number;
  /**
   * Model sessions that infer frames side by side (ONNX Runtime; default 1). On a 2-core CPU `sessions: 2,
   * threads: 1` maximises frames per second; one session with 2 threads minimises the latency of each frame.
   */
  sessions?: number;
  device?: 'cpu' | 'cuda';
  /** 'int8': the bundle's INT8 model on ONNX Runtime CPU (`mmaerec-edge quantize`); default 'fp32'. */
  precision?: Precision;
  /** Use this back end instead of creating one (a host's own, or a test double). Not disposed by close(). */
  inferenceBackend?: InferenceBackend;
  /** Region of interest in original-frame pixels (default: the whole frame). */
  roi?: Roi;
  /** Override the bundle's calibrated thresholds. */
  thresholds?: { image?: number; pixel?: number };
  /**
   * Override keys of the bundle's scoring (e.g. `{ shadingWindow: 17 }`), to try scoring options on labelled
   * data (`eval --scoring`). The bundle's thresholds were calibrated for its own scoring: recalibrate
   * (`mmaerec-edge calibrate`) before putting an overridden scoring on a line.
   */
  scoring?: Partial<ScoringOptions>;
  heatmap?: InspectorHeatmapOptions;
  /** Frames decoded/preprocessed at once (default: the back end's concurrency + 1, so one is always ready). */
  prepareConcurrency?: number;
  /**
   * Called with every frame's analysis (the result plus the map and images) as it finishes, e.g. by the live
   * station page, which keeps the last few for its detail view. An exception thrown here is ignored: an
   * observer must never cost a frame its verdict.
   */
  onAnalysis?: (analysis: Analysis) => void;
}

/** A frame reconstructed and scored, before the decision: the map over the model input or the tiled working image. */
interface Reconstructed {
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  score: number;
  /** Input and reconstruction, HWC at map size (tiled: the working image and the stitched reconstruction). */
  input: Float32Array;
  /**
   * The reconstruction, made HWC (tiled: stitched) when first asked: a frame whose map does not need it (α = 1)
   * and whose Analysis nobody reads never pays that copy.
   */
  recon: () => Float32Array;
  roi: Roi;
  decodeMs: number;
  preprocessMs: number;
  inferMs: number;
  /** When scoring began (the latency split's score part runs from here). */
  tScore: number;
}

/** Everything `inspect` computes, for evaluation: the result plus the map and both images at model size. */
export interface Analysis {
  result: InspectionResult;
  /** The fused score map, mapWidth × mapHeight (the model input size). */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  /** The preprocessed input, HWC RGB in [0, 1] at model size. */
  input: Float32Array;
  /** The reconstruction, HWC RGB (not clamped): made at the first read (a getter), the same array after. */
  readonly recon: Float32Array;
  /** The regions in map pixels (the result's regions are in frame pixels). */
  mapRegions: MapRegion[];
}

/**
 * Inspects frames with one model bundle: decode → ROI → resize → edge map → inference → fused score →
 * verdict and regions (in original-frame pixels) → optional heatmap. Calls may overlap freely: frames are
 * prepared and scored concurrently while inference runs as many frames at once as the back end has sessions
 * (usually one), so successive frames pipeline.
 */
export class Inspector {
  readonly bundle: LoadedBundle;
  readonly backend: InferenceBackend;
  readonly thresholds: ThresholdsInForce;
  /** The scoring in force: the bundle's, with `options.scoring` over it. */
  readonly scoring: ScoringOptions;
  /** `scoring`, validated once here rather than per frame. */
  private readonly scorer: FusedScorer;
  readonly provenance: ModelProvenance;
  /** Why better back ends were skipped (empty when the first choice worked). */
  readonly skippedBackends: readonly { name: string; reason: string }[];
  private readonly roi: Roi | undefined;
  private readonly heatmap: InspectorHeatmapOptions;
  private readonly onAnalysis: InspectorOptions['onAnalysis'];
  private readonly ownsBackend: boolean;
  private readonly inferLane: Limiter;
  private readonly prepareSlots: Limiter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /**
   * α = 1 and a back end that serves the feature bank's graph alone (runFeatureDistance): a frame whose Analysis
   * nobody reads (inspect without onAnalysis) is scored from the distance map, and the autoencoder does not run.
   */
  private readonly featureOnly: boolean;

  private constructor(bundle: LoadedBundle, backend: InferenceBackend, owns: boolean, options: InspectorOptions) {
    this.bundle = bundle;
    this.backend = backend;
    this.ownsBackend = owns;
    this.roi = options.roi;
    this.heatmap = options.heatmap ?? {};
    this.onAnalysis = options.onAnalysis;
    this.featureOnly = backend.runFeatureDistance !== undefined && featureDistanceAlone(bundle.manifest.featureFusion);
    this.thresholds = thresholdsInForce(bundle.manifest.thresholds, options.thresholds);
    this.scorer = new FusedScorer({ ...bundle.manifest.scoring, ...options.scoring });
    this.scoring = this.scorer.options;
    this.provenance = { bundleName: bundle.manifest.name, bundleSha256: bundle.sha256, backend: backend.name, scoringEngine: scoringEngine() };
    this.skippedBackends = (backend as { skipped?: { name: string; reason: string }[] }).skipped ?? [];
    const lanes = backend.concurrency ?? 1;
    this.inferLane = new Limiter(lanes);
    this.prepareSlots = new Limiter(options.prepareConcurrency ?? lanes + 1);
  }

  /**
   * Loads (and verifies) the bundle, creates the back end and checks that it matches the bundle's input size.
   * Rejects with E_BUNDLE for a missing, partial or tampered bundle, E_INFER/E_UNSUPPORTED for back ends.
   */
  static async create(bundle: string | LoadedBundle, options: InspectorOptions = {}): Promise<Inspector> {
    if (typeof bundle !== 'string' && (typeof bundle !== 'object' || bundle === null || !('manifest' in bundle))) {
      throw new TypeError('Expected a bundle directory or a LoadedBundle for bundle');
    }
    if (options.roi !== undefined) assertRoi('options.roi', options.roi);
    if (options.scoring !== undefined) {
      if (options.scoring === null || typeof options.scoring !== 'object') throw new TypeError(`Expected an object for options.scoring but received ${String(options.scoring)}`);
      resolveScoringOptions(options.scoring); // RangeError naming the option, before a back end is created
    }
    const mode = options.heatmap?.mode ?? 'off';
    if (!['off', 'defects', 'all'].includes(mode)) throw new TypeError(`Expected 'off', 'defects' or 'all' for options.heatmap.mode but received ${String(mode)}`);
    if (options.heatmap?.maxEdge !== undefined) assertMaxEdge('options.heatmap.maxEdge', options.heatmap.maxEdge);
    const loaded = typeof bundle === 'string' ? await loadBundle(bundle) : bundle;
    const owns = !options.inferenceBackend;
    const backend = options.inferenceBackend ?? (await createBackend(loaded, { backend: options.backend, threads: options.threads, sessions: options.sessions, device: options.device, precision: options.precision }));
    const { width, height } = loaded.manifest.input;
    if (backend.width !== width || backend.height !== height) {
      if (owns) await backend.dispose();
      throw new MmaerecError('E_MODEL', `back end ${backend.name} takes ${backend.width}×${backend.height} but the bundle's input is ${width}×${height}: rebuild the engine for this bundle`);
    }
    return new Inspector(loaded, backend, owns, options);
  }

  /**
   * Inspects one frame. Rejects with MmaerecError (E_INPUT, E_INFER, …) when the frame cannot be inspected. For a
   * bundle whose fusion has α = 1 on a back end with runFeatureDistance, and without an onAnalysis observer, only
   * the feature bank's graph runs (the result is the same; `analyze` runs the whole network).
   */
  async inspect(frame: Frame): Promise<InspectionResult> {
    // The reconstruction only where someone may read it: the onAnalysis observer (the station page's detail view).
    return (await this.track(frame, this.onAnalysis !== undefined)).result;
  }

  /** Inspects one frame and never rejects for a frame-level problem: failures become an ErrorRecord. */
  async inspectRecord(frame: Frame): Promise<PipelineRecord> {
    try {
      return await this.inspect(frame);
    } catch (err) {
      return this.errorRecord(frame, err);
    }
  }

  /** The ErrorRecord for a frame that failed with `err` (non-SDK errors keep their message, code E_INFER). */
  errorRecord(frame: Frame, err: unknown): ErrorRecord {
    return errorRecordFor(frame, isMmaerecError(err) ? err.code : 'E_INFER', err instanceof Error ? err.message : String(err), this.provenance);
  }

  /** Like `inspect`, plus the score map and the input and reconstruction images (what evaluation needs). */
  analyze(frame: Frame): Promise<Analysis> {
    return this.track(frame, true);
  }

  /** One frame through `run`, counted in flight (close waits for it); `withRecon`: the Analysis may be read. */
  private track(frame: Frame, withRecon: boolean): Promise<Analysis> {
    if (this.closed) return Promise.reject(new MmaerecError('E_INPUT', 'inspector is closed: create a new Inspector'));
    checkFrame(frame);
    const p = this.run(frame, withRecon);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  /** One inference on the back end's lane; the reconstruction checked (size, finite), still planar. */
  private async infer(frame: Frame, image: Float32Array, edge: Float32Array, width: number, height: number): Promise<{ recon: Float32Array; featureDistance?: Float32Array; ms: number }> {
    let ms = 0;
    const out = runOutputs(await this.inferLane.run(async () => {
      const t = performance.now();
      const r = await this.backend.run({ image, edge });
      ms = performance.now() - t;
      return r;
    }));
    const { recon } = out;
    if (recon.length !== 3 * width * height) {
      throw new MmaerecError('E_INFER', `frame ${frame.id}: back end ${this.backend.name} returned ${recon.length} values, expected 3×${height}×${width}: rebuild the engine or re-export the bundle`);
    }
    const bad = firstNonFinite(recon);
    if (bad >= 0) {
      throw new MmaerecError('E_INFER', `frame ${frame.id}: back end ${this.backend.name} produced ${recon[bad]} at reconstruction element ${bad}: the model or engine is broken (re-export the bundle, rebuild the engine, or try --backend onnxruntime)`);
    }
    return { recon, ms, ...(out.featureDistance ? { featureDistance: out.featureDistance } : {}) };
  }

  /** The feature bank's graph alone (featureOnly), on the same lane as infer(); the distance map checked finite. */
  private async inferFeatures(frame: Frame, image: Float32Array): Promise<{ featureDistance: Float32Array; ms: number }> {
    let ms = 0;
    const featureDistance = await this.inferLane.run(async () => {
      const t = performance.now();
      const d = await this.backend.runFeatureDistance!({ image });
      ms = performance.now() - t;
      return d;
    });
    const bad = firstNonFinite(featureDistance);
    if (bad >= 0) {
      throw new MmaerecError('E_INFER', `frame ${frame.id}: back end ${this.backend.name} produced ${featureDistance[bad]} at feature distance element ${bad}: the model is broken (re-export the bundle)`);
    }
    return { featureDistance, ms };
  }

  /**
   * One inference of a frame or tile: the feature bank's graph alone where nobody reads the reconstruction
   * (featureOnly and not `withRecon`), else the whole network.
   */
  private inferFor(frame: Frame, image: Float32Array, edge: Float32Array, size: number, withRecon: boolean): Promise<{ recon?: Float32Array; featureDistance?: Float32Array; ms: number }> {
    return this.featureOnly && !withRecon ? this.inferFeatures(frame, image) : this.infer(frame, image, edge, size, size);
  }

  /** The feature bank's part of the scoring, when the bundle fuses one: the run must have produced its map. */
  private featureInput(frame: Frame, distance: Float32Array | undefined): FeatureInput | undefined {
    const fusion = this.bundle.manifest.featureFusion;
    if (!fusion || fusion.alpha === 0) return undefined;
    if (!distance) {
      throw new MmaerecError('E_INFER', `frame ${frame.id}: the bundle fuses a feature distance map but back end ${this.backend.name} returned none: use --backend onnxruntime, or a bundle without featureFusion`);
    }
    return { distance, fusion };
  }

  /** Whole-frame path: the ROI stretched to the model input, one inference, one fused score. */
  private async reconstructWhole(frame: Frame, withRecon: boolean): Promise<Reconstructed> {
    const { width, height } = this.bundle.manifest.input;
    const prepared = await this.prepareSlots.run(() => prepareFrame(frame, width, height, this.roi));
    const { recon: planar, featureDistance, ms } = await this.inferFor(frame, prepared.image, prepared.edge, width, withRecon);
    const tScore = performance.now();
    const recon = planar ? once(() => planarToHwc(planar, width, height)) : notReconstructed;
    const { map, score } = await this.scoreWhole(frame, prepared.hwc, recon, featureDistance, width, height);
    return { map, mapWidth: width, mapHeight: height, score, input: prepared.hwc, recon, roi: prepared.roi, decodeMs: prepared.decodeMs, preprocessMs: prepared.preprocessMs, inferMs: ms, tScore };
  }

  /**
   * The whole frame's map and score. With α = 1 the image-space map has no weight (needsImageMap) and is not
   * computed; fusedScoreWithFeatures would check the pair first, but here `input` came from bytes and `recon`
   * passed infer()'s checks, so the map is finished directly.
   */
  private async scoreWhole(frame: Frame, input: Float32Array, recon: () => Float32Array, distance: Float32Array | undefined, width: number, height: number): Promise<{ map: Float32Array; score: number }> {
    const feature = this.featureInput(frame, distance);
    const norm = this.bundle.manifest.positionNorm;
    const extras = { ...(feature ? { feature } : {}), ...(norm ? { norm } : {}) };
    if (!needsImageMap(extras)) return finishMap(undefined, width, height, this.scorer.options, extras);
    return fusedScoreWithFeatures(input, recon(), width, height, this.scorer, extras);
  }

  /** Tiled path (manifest input.tiling): aspect kept, model-size tiles inferred one by one, maps stitched. */
  private async reconstructTiled(frame: Frame, tiling: TilingSpec, withRecon: boolean): Promise<Reconstructed> {
    const tile = this.bundle.manifest.input.width;
    const prepared = await this.prepareSlots.run(() => prepareTiledFrame(frame, tile, tiling, this.roi));
    const recons: Float32Array[] = [];
    const distances: Float32Array[] = [];
    let inferMs = 0;
    let fusion: FeatureFusion | undefined;
    const featureOnly = this.featureOnly && !withRecon;
    for (const t of prepared.tiles) {
      const { recon, featureDistance, ms } = await this.inferFor(frame, t.image, t.edge, tile, withRecon);
      if (recon) recons.push(planarToHwc(recon, tile, tile));
      const feature = this.featureInput(frame, featureDistance);
      if (feature) {
        distances.push(feature.distance);
        fusion = feature.fusion;
      }
      inferMs += ms;
    }
    const tScore = performance.now();
    const { layout } = prepared;
    const norm = this.bundle.manifest.positionNorm;
    const extras = { ...(fusion ? { features: { distances, fusion } } : {}), ...(norm ? { norm } : {}) };
    // featureOnly: α = 1, so the tiles' image-space maps have no weight (fusedScoreTiles would skip them too)
    const { map, score } = featureOnly
      ? combineTiles(undefined, layout, this.scorer.options, extras)
      : await fusedScoreTiles(prepared.tiles.map((t) => t.hwc), recons, layout, this.scorer, extras);
    const recon = featureOnly ? notReconstructed : once(() => stitchTiles(recons, layout, 3));
    return { map, mapWidth: layout.width, mapHeight: layout.height, score, input: prepared.hwc, recon, roi: prepared.roi, decodeMs: prepared.decodeMs, preprocessMs: prepared.preprocessMs, inferMs, tScore };
  }

  private async run(frame: Frame, withRecon: boolean): Promise<Analysis> {
    const t0 = performance.now();
    const tiling = this.bundle.manifest.input.tiling;
    const r = tiling ? await this.reconstructTiled(frame, tiling, withRecon) : await this.reconstructWhole(frame, withRecon);
    const { map, mapWidth: width, mapHeight: height, score, tScore } = r;
    if (!Number.isFinite(score)) {
      throw new MmaerecError('E_INFER', `frame ${frame.id}: the fused score is ${score}: check the bundle's scoring constants`);
    }
    const verdict = verdictFor(score, this.thresholds.image);
    const mapRegions = await findRegions(map, width, height, this.thresholds.pixel);
    const result: InspectionResult = {
      kind: 'inspection',
      frameId: frame.id,
      ...(frame.origin !== undefined ? { origin: frame.origin } : {}),
      capturedAt: frame.capturedAt,
      finishedAt: 0,
      score,
      imageThreshold: this.thresholds.image,
      pixelThreshold: this.thresholds.pixel,
      verdict,
      regions: regionsToFrame(mapRegions, width, height, r.roi),
      latency: { decodeMs: r.decodeMs, preprocessMs: r.preprocessMs, inferMs: r.inferMs, scoreMs: 0, totalMs: 0 },
      model: this.provenance,
    };
    const mode = this.heatmap.mode ?? 'off';
    if (mode === 'all' || (mode === 'defects' && verdict === 'defect')) {
      try {
        result.heatmap = await renderHeatmap(frame, map, width, height, r.roi, this.thresholds.pixel, this.heatmap);
      } catch (err) {
        result.warnings = [heatmapWarning(frame.id, err)];
      }
    }
    const t1 = performance.now();
    result.latency.scoreMs = t1 - tScore;
    result.latency.totalMs = t1 - t0;
    result.finishedAt = Date.now();
    const analysis: Analysis = {
      result, map, mapWidth: width, mapHeight: height, input: r.input, mapRegions,
      get recon() {
        return r.recon();
      },
    };
    try {
      this.onAnalysis?.(analysis);
    } catch {
      // see InspectorOptions.onAnalysis: an observer's failure is its own
    }
    return analysis;
  }

  /** Waits for the frames in flight, then releases the back end (if this inspector created it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    if (this.ownsBackend) await this.backend.dispose();
  }
}

/** The reconstruction of a frame scored from the feature bank alone (Inspector.featureOnly): nobody can read it. */
function notReconstructed(): Float32Array {
  throw new MmaerecError('E_INFER', 'this frame was scored from the feature bank alone and has no reconstruction: use Inspector.analyze, or an onAnalysis observer, to get one');
}

/** `make`'s value, computed at the first call and kept. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

/** The one-line warning for a heatmap that could not be rendered (the frame's verdict stands). */
function heatmapWarning(frameId: string, err: unknown): RecordWarning {
  const raw = err instanceof Error ? err.message : String(err);
  // The SDK's decode errors already name the frame and the fix; libvips' own messages need both.
  const own = isMmaerecError(err) ? raw.replace(`frame ${frameId}: `, '') : `${raw.split('\n')[0]}: report it with the frame attached`;
  return { kind: 'heatmap', message: `frame ${frameId}: heatmap not rendered, the verdict stands: ${printable(own, 240)}` };
}

function checkFrame(frame: Frame): void {
  if (typeof frame !== 'object' || frame === null) throw new TypeError(`Expected a Frame for frame but received ${frame === null ? 'null' : typeof frame}`);
  if (typeof frame.id !== 'string') throw new TypeError('Expected a string for frame.id');
  if (typeof frame.capturedAt !== 'number') throw new TypeError('Expected a number (ms since the epoch) for frame.capturedAt');
  if (frame.image === undefined || frame.image === null) throw new TypeError('Expected encoded bytes or a RawImage for frame.image');
}
