import { colourMap, defaultHeatmapRange } from '../../decide/heatmap.js';
import type { MapRegion } from '../../decide/regions.js';
import type { PipelineRecord, StageLatency } from '../../decide/result.js';
import type { Analysis } from '../../pipeline/inspector.js';
import { encodePng, unitToBytes } from '../../util/png.js';
import type { ModelEventBody } from '../../publish/events.js';
import type { MetricTotals, PipelineMetrics } from '../metrics.js';
import { percentile } from '../summary.js';
import { bundleRef, ModelPanel, type BundleRef, type StationModels, type StationServing } from './models.js';
import { Ring } from './ring.js';

/** One verdict as the page lists it (the verdict stream, the score chart, the thumbnails' captions). */
export interface StationFrame {
  /** Position in the run, from 1; the page's URLs name frames by it (frame ids may hold any character). */
  seq: number;
  /** The camera that took it: the camera id its events carry (a single source: StationFeedOptions.camera). */
  camera: string;
  frameId: string;
  verdict: 'ok' | 'defect' | 'error';
  capturedAt: number;
  finishedAt: number;
  score?: number;
  /** The threshold this camera's frame was judged against. */
  imageThreshold?: number;
  /** The bundle that produced the verdict (absent on an error record made before any bundle loaded). */
  model?: BundleRef;
  /** Regions found, and the largest one's area in frame pixels (the stream's region-size filter). */
  regions: number;
  largestRegion: number;
  latency?: StageLatency;
  /** Error records: the code and the one-line message. */
  code?: string;
  message?: string;
  /** Set while the page still keeps this frame's images (the last `frames` frames inspected). */
  images?: { width: number; height: number; boxes: Pick<MapRegion, 'x' | 'y' | 'width' | 'height'>[] };
}

/** The images of a frame kept for the detail view: bytes at map size, PNGs encoded on first request. */
interface KeptImages {
  width: number;
  height: number;
  input: Uint8Array;
  recon: Uint8Array;
  map: Float32Array;
  pixelThreshold: number;
  mapRegions: MapRegion[];
  png: Map<ImageKind, Promise<Buffer>>;
  /** Bytes of the PNGs encoded so far. */
  pngBytes: number;
}

interface Kept {
  frame: StationFrame;
  record: PipelineRecord;
  images?: KeptImages;
}

export const IMAGE_KINDS = ['input', 'recon', 'heatmap'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

/** What a sink can say about itself (the MQTT sink: link and spool). */
export interface LinkSink {
  readonly name: string;
  status?(): { connected: boolean; spooled: number; spooledBytes: number; delivered: number; dropped: number };
  oldestUndeliveredAt?(): Promise<number | undefined>;
}

export interface StationStats {
  totals: MetricTotals;
  /** Defective frames among inspected ones (null before the first). */
  defectRate: number | null;
  /** Frames finished per second over the last `windowS` seconds. */
  fps: number;
  /** End-to-end latency percentiles over the frames of the last `windowS` seconds (null without any). */
  p50Ms: number | null;
  p99Ms: number | null;
  windowS: number;
  links: { sink: string; connected: boolean; backlog: number; backlogBytes: number; delivered: number; dropped: number; oldestUndeliveredAt: number | null }[];
  /** Bytes of images (raw and encoded) the page keeps now: bounded by `frames` whatever the run's length. */
  keptImageBytes: number;
}

export interface StationFeedOptions {
  /** Frames whose images are kept for thumbnails and the detail view (default 16). */
  frames?: number;
  /** Verdicts kept for the stream, the chart and the rates (default 600). */
  history?: number;
  metrics: PipelineMetrics;
  sinks?: readonly LinkSink[];
  /**
   * The model serving now, read whenever the page shows it (so a swap shows at once): provenance and each
   * camera's thresholds. Without it the page shows what the frames carry.
   */
  serving?: () => StationServing | undefined;
  /** The camera id of records that name none (a single `source`; default "camera"). */
  camera?: string;
  /** Window of fps and latency percentiles (default 10 s). */
  windowS?: number;
  now?: () => number;
}

/** What the page's server pushes: a frame's verdict, or the model panel when it changed (a swap, a camera's first frame). */
export type FeedEvent = { kind: 'frame'; frame: StationFrame } | { kind: 'models'; models: StationModels };
type Listener = (event: FeedEvent) => void;

/**
 * What the live station page shows, fed by the pipeline: the inspector's analyses (`observeAnalysis`, images)
 * and the runner's records once every sink has accepted them (`observeRecord`). Memory is bounded: images of the
 * last `frames` frames, light verdicts of the last `history` ones; counts come from PipelineMetrics, not from
 * counters of its own.
 */
export class StationFeed {
  readonly frames: number;
  readonly history: number;
  private readonly recent: Ring<Kept>;
  private readonly verdicts: Ring<StationFrame>;
  /** Analyses waiting for their record (weak: an analysis whose record never comes is collected). */
  private readonly pending = new WeakMap<object, KeptImages>();
  private readonly listeners = new Set<Listener>();
  private readonly metrics: PipelineMetrics;
  private readonly sinks: readonly LinkSink[];
  private readonly windowS: number;
  private readonly now: () => number;
  private readonly panel: ModelPanel;
  private readonly camera: string;
  private seq = 0;

  constructor(options: StationFeedOptions) {
    this.frames = options.frames ?? 16;
    this.history = options.history ?? 600;
    this.recent = new Ring(this.frames);
    this.verdicts = new Ring(this.history);
    this.metrics = options.metrics;
    this.sinks = options.sinks ?? [];
    this.panel = new ModelPanel(options.serving);
    this.camera = options.camera ?? 'camera';
    this.windowS = options.windowS ?? 10;
    this.now = options.now ?? Date.now;
  }

  /** Inspector.onAnalysis: keeps the images (as bytes, so the float buffers can go) until the record arrives. */
  observeAnalysis(a: Analysis): void {
    const { result } = a;
    this.pending.set(result, {
      width: a.mapWidth, height: a.mapHeight, input: unitToBytes(a.input), recon: unitToBytes(a.recon), map: a.map,
      pixelThreshold: result.pixelThreshold, mapRegions: a.mapRegions, png: new Map(), pngBytes: 0,
    });
  }

  /** Runner.onRecord: the record every sink accepted. */
  observeRecord(record: PipelineRecord): void {
    const images = this.pending.get(record);
    this.pending.delete(record);
    const camera = record.camera?.camera ?? this.camera;
    const frame = lightFrame(++this.seq, camera, record, images);
    const panelChanged = this.panel.observeRecord(camera, record);
    this.verdicts.push(frame);
    // the heatmap bytes stay with the sinks: the page renders its own from the map
    const kept: Kept = { frame, record: record.kind === 'inspection' ? { ...record, heatmap: undefined } : record, ...(images ? { images } : {}) };
    const evicted = this.recent.push(kept);
    if (evicted) delete evicted.frame.images;
    this.emit({ kind: 'frame', frame });
    if (panelChanged) this.emit({ kind: 'models', models: this.models() });
  }

  /** A swap outcome, as the sinks announced it (`mmaerec.model/1`): the panel lists it and names the new model. */
  observeModelEvent(event: ModelEventBody): void {
    this.panel.observeSwap(event);
    this.emit({ kind: 'models', models: this.models() });
  }

  /** The model panel: the model in service, each camera's thresholds and latest frame's bundle, the latest swaps. */
  models(): StationModels {
    return this.panel.snapshot();
  }

  /** Calls `listener` for every new frame and every change of the model panel, until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The verdicts kept, oldest first. */
  verdictList(): StationFrame[] {
    return this.verdicts.toArray();
  }

  /** The record of a frame still kept (regions in frame pixels, scores, latency split), or undefined. */
  detail(seq: number): { frame: StationFrame; record: PipelineRecord; mapRegions?: MapRegion[] } | undefined {
    const kept = this.recent.findLast((k) => k.frame.seq === seq);
    if (!kept) return undefined;
    return { frame: kept.frame, record: kept.record, ...(kept.images ? { mapRegions: kept.images.mapRegions } : {}) };
  }

  /** A kept frame's image as PNG (encoded once, then cached with the frame), or undefined once it is gone. */
  image(seq: number, kind: ImageKind): Promise<Buffer> | undefined {
    const images = this.recent.findLast((k) => k.frame.seq === seq)?.images;
    if (!images) return undefined;
    let png = images.png.get(kind);
    if (!png) {
      png = encodeKind(images, kind);
      images.png.set(kind, png);
      // a failed encoding is not cached: the next request tries again
      png.then((b) => (images.pngBytes += b.byteLength), () => images.png.delete(kind));
    }
    return png;
  }

  async stats(): Promise<StationStats> {
    const totals = await this.metrics.totals();
    const since = this.now() - this.windowS * 1000;
    const window = this.verdicts.toArray().filter((f) => f.finishedAt >= since);
    const latencies = window.filter((f) => f.latency).map((f) => f.latency!.totalMs).sort((a, b) => a - b);
    const inspected = totals.ok + totals.defects;
    const links = await Promise.all(
      this.sinks.filter((s) => s.status).map(async (s) => {
        const st = s.status!();
        const oldest = st.spooled > 0 ? await s.oldestUndeliveredAt?.() : undefined;
        return { sink: s.name, connected: st.connected, backlog: st.spooled, backlogBytes: st.spooledBytes, delivered: st.delivered, dropped: st.dropped, oldestUndeliveredAt: oldest ?? null };
      }),
    );
    return {
      totals,
      defectRate: inspected ? totals.defects / inspected : null,
      fps: window.length / this.windowS,
      p50Ms: latencies.length ? percentile(latencies, 50) : null,
      p99Ms: latencies.length ? percentile(latencies, 99) : null,
      windowS: this.windowS,
      links,
      keptImageBytes: this.keptImageBytes(),
    };
  }

  private emit(event: FeedEvent): void {
    for (const l of this.listeners) l(event);
  }

  private keptImageBytes(): number {
    let bytes = 0;
    for (const k of this.recent.toArray()) {
      if (!k.images) continue;
      bytes += k.images.input.byteLength + k.images.recon.byteLength + k.images.map.byteLength + k.images.pngBytes;
    }
    return bytes;
  }
}

function lightFrame(seq: number, camera: string, record: PipelineRecord, images: KeptImages | undefined): StationFrame {
  const base = { seq, camera, frameId: record.frameId, capturedAt: record.capturedAt, finishedAt: record.finishedAt, ...(record.model ? { model: bundleRef(record.model) } : {}) };
  if (record.kind === 'error') return { ...base, verdict: 'error', regions: 0, largestRegion: 0, code: record.code, message: record.message };
  return {
    ...base,
    verdict: record.verdict,
    score: record.score,
    imageThreshold: record.imageThreshold,
    regions: record.regions.length,
    largestRegion: record.regions.reduce((m, r) => Math.max(m, r.area), 0),
    latency: record.latency,
    ...(images
      ? { images: { width: images.width, height: images.height, boxes: images.mapRegions.slice(0, 16).map(({ x, y, width, height }) => ({ x, y, width, height })) } }
      : {}),
  };
}

function encodeKind(images: KeptImages, kind: ImageKind): Promise<Buffer> {
  const { width, height } = images;
  if (kind === 'input') return encodePng(images.input, width, height, 3);
  if (kind === 'recon') return encodePng(images.recon, width, height, 3);
  // the line's colour scale and range (decide/heatmap.ts), transparent where the score is low
  return encodePng(colourMap(images.map, defaultHeatmapRange(images.pixelThreshold), 0.85), width, height, 4);
}
