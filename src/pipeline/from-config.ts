import { FfmpegSource } from '../capture/ffmpeg-source.js';
import { FilesSource } from '../capture/files-source.js';
import { GstreamerSource } from '../capture/gstreamer-source.js';
import type { FrameSource } from '../capture/source.js';
import { startProblems } from '../config/check.js';
import type { RunConfig, SinkConfig, SourceConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { PipelineMetrics } from '../observe/metrics.js';
import { pageToken } from '../observe/station-page/auth.js';
import { StationFeed } from '../observe/station-page/feed.js';
import { serveStationPage, type StationPage } from '../observe/station-page/server.js';
import { JsonlSink } from '../publish/jsonl-sink.js';
import type { PipelineRecord } from '../decide/result.js';
import type { Sink } from '../publish/sink.js';
import { StdoutSink } from '../publish/stdout-sink.js';
import { parseModes } from '../util/files.js';
import { BundleGuard } from './bundle-guard.js';
import { Inspector, type Analysis } from './inspector.js';
import { runPipeline, type RunStats } from './runner.js';

/** The frame source a validated `source` config describes. */
export function sourceFromConfig(c: SourceConfig): FrameSource {
  const queue = { queueCapacity: c.queue?.capacity, policy: c.queue?.policy };
  switch (c.type) {
    case 'files':
      return new FilesSource({ patterns: c.path, watch: c.watch, includeExisting: c.includeExisting, stableMs: c.stableMs, pollMs: c.pollMs, ...queue });
    case 'ffmpeg':
      return new FfmpegSource({ ...c, ...queue });
    case 'gstreamer':
      return new GstreamerSource({ ...c, ...queue });
  }
}

/** The sinks a validated `sinks` config describes (MQTT loaded only when configured). */
export async function sinksFromConfig(configs: SinkConfig[], logger: Logger): Promise<Sink[]> {
  const sinks: Sink[] = [];
  try {
    for (const c of configs) {
      if (c.type === 'jsonl') sinks.push(new JsonlSink({ path: c.path, heatmaps: c.heatmaps, fsync: c.fsync, fileMode: c.fileMode, dirMode: c.dirMode }));
      else if (c.type === 'stdout') sinks.push(new StdoutSink({ format: c.format, heatmaps: c.heatmaps }));
      else {
        const { type: _type, ...options } = c;
        const { MqttSink } = await import('../publish/mqtt-sink.js');
        sinks.push(await MqttSink.create({ ...options, logger: logger.child({ sink: 'mqtt' }) }));
      }
    }
  } catch (err) {
    await Promise.allSettled(sinks.map((s) => s.close()));
    throw err;
  }
  return sinks;
}

export interface RunHandle {
  /** False while the bundle could not be loaded (frames get E_BUNDLE records; see pipeline.onBundleError). */
  bundleLoaded(): boolean;
  /** Resolves when the run has ended (source exhausted or stopped) and the sinks are closed. */
  done: Promise<RunStats>;
  /** Graceful stop: the source stops, frames in flight finish, sinks flush and close. */
  stop(): void;
  /** The Prometheus endpoint, when configured. */
  metricsUrl?: string;
  /** The live station page, when configured (`page:`). */
  pageUrl?: string;
  logger: Logger;
}

/**
 * Starts `mmaerec-edge run` from a validated config: logger, metrics endpoint, inspector, sinks, source,
 * runner. Throws (before anything runs) on a bad bundle, back end, source or sink.
 */
export async function startRun(config: RunConfig, options: { logger?: Logger } = {}): Promise<RunHandle> {
  // Before anything starts: more inference threads than the machine can mean (a silent hang at 100000), or no
  // native scoring core while backend.requireNativeScoring is on (a silent 46× slowdown).
  const refused = startProblems(config)[0];
  if (refused) throw refused;
  const logger = options.logger ?? createLogger({ level: config.logging.level, file: config.logging.file });
  // Read before anything starts: an unset token variable is a config error, not a page that refuses everyone.
  const token = config.page ? pageToken(config.page) : undefined;
  let feed: StationFeed | undefined;
  const inspectorOptions = {
    backend: config.backend.name,
    threads: config.backend.threads,
    sessions: config.backend.sessions,
    device: config.backend.device,
    precision: config.backend.precision,
    roi: config.roi,
    thresholds: config.thresholds,
    heatmap: { mode: config.heatmap.mode, format: config.heatmap.format, quality: config.heatmap.quality, maxEdge: config.heatmap.maxEdge },
    ...(config.page ? { onAnalysis: (a: Analysis) => feed?.observeAnalysis(a) } : {}),
  };
  // 'report' keeps the line running with E_BUNDLE records while the bundle is bad; 'exit' refuses to start.
  const inspector = config.pipeline.onBundleError === 'report'
    ? await BundleGuard.create(config.model, inspectorOptions, { retryS: config.pipeline.bundleRetryS, logger })
    : await Inspector.create(config.model, inspectorOptions);
  const loaded = inspector instanceof BundleGuard ? inspector.current : inspector;
  if (loaded) {
    for (const s of loaded.skippedBackends) logger.warn({ backend: s.name }, `back end skipped: ${s.reason}`);
    logger.info({ bundle: loaded.provenance, thresholds: loaded.thresholds }, `model loaded (scoring engine ${loaded.provenance.scoringEngine})`);
  }
  const metrics = new PipelineMetrics({ defaultMetrics: true });
  let server: { url: string; close(): Promise<void> } | undefined;
  let page: StationPage | undefined;
  let sinks: Sink[] = [];
  let source: FrameSource;
  try {
    // Inside the try: a source that refuses its options must still release the inspector (its back end).
    source = sourceFromConfig(config.source);
    if (config.metrics.port !== undefined) {
      server = await metrics.serve(config.metrics.port, config.metrics.host);
      logger.info({ url: server.url }, 'metrics endpoint');
    }
    sinks = await sinksFromConfig(config.sinks, logger);
    if (config.page) {
      feed = new StationFeed({
        metrics, sinks, frames: config.page.frames, history: config.page.history,
        ...(loaded ? { model: { provenance: loaded.provenance, imageThreshold: loaded.thresholds.image, pixelThreshold: loaded.thresholds.pixel, thresholdSource: loaded.thresholds.source } } : {}),
      });
      page = await serveStationPage(feed, { port: config.page.port, host: config.page.host, token });
      logger.info({ url: page.url, token: token ? `required (${config.page.tokenEnv})` : 'none (loopback)' }, 'station page');
    }
    await source.start();
  } catch (err) {
    await Promise.allSettled([inspector.close(), server?.close(), page?.close(), ...sinks.map((s) => s.close())]);
    throw err;
  }
  const controller = new AbortController();
  const done = runPipeline({
    source, inspector, sinks, signal: controller.signal, logger, metrics,
    maxInFlight: config.pipeline.maxInFlight ?? config.backend.sessions + 2,
    heatmapDir: config.heatmap.dir,
    heatmapModes: parseModes(config.heatmap, 'heatmap'),
    summaryIntervalMs: config.metrics.summaryIntervalS * 1000,
    ...(feed ? { onRecord: (r: PipelineRecord) => feed!.observeRecord(r) } : {}),
  }).finally(async () => {
    // The servers close even when releasing the back end fails: an open server keeps the process alive.
    try {
      await inspector.close();
    } finally {
      await Promise.allSettled([server?.close(), page?.close()]);
    }
  });
  const bundleLoaded = (): boolean => !(inspector instanceof BundleGuard) || inspector.current !== undefined;
  return { done, stop: () => controller.abort(), metricsUrl: server?.url, ...(page ? { pageUrl: page.url } : {}), logger, bundleLoaded };
}
