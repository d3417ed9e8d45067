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
import type { StationServing } from '../observe/station-page/models.js';
import { serveStationPage, type StationPage } from '../observe/station-page/server.js';
import { JsonlSink } from '../publish/jsonl-sink.js';
import type { PipelineRecord } from '../decide/result.js';
import type { Sink } from '../publish/sink.js';
import { StdoutSink } from '../publish/stdout-sink.js';
import { parseModes } from '../util/files.js';
import { camerasOf, type CameraPlan } from '../config/cameras.js';
import type { ModelEventBody } from '../publish/events.js';
import type { MqttSink } from '../publish/mqtt-sink.js';
import { runCell, type CellStats } from './cell.js';
import { ModelSwitch } from './model-switch.js';
import type { Analysis } from './inspector.js';
import { runPipeline, type RunStats } from './runner.js';
import type { ServedModel, ServeOptions } from './served-model.js';
import { parseSwapCommand, watchBundles } from './swap-triggers.js';

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
  /** Resolves when the run has ended (sources exhausted or stopped) and the sinks are closed. */
  done: Promise<RunStats | CellStats>;
  /** Graceful stop: the sources stop, frames in flight finish, sinks flush and close. */
  stop(): void;
  /** The model in service, and the way to swap another in (also what swap.watch and swap.commands call). */
  models: ModelSwitch;
  /** The Prometheus endpoint, when configured. */
  metricsUrl?: string;
  /** The live station page, when configured (`page:`). */
  pageUrl?: string;
  logger: Logger;
}

/**
 * Starts `mmaerec-edge run` from a validated config: logger, metrics endpoint, model, sinks, sources, runner, and
 * the swap triggers. One `source` runs as before; `sources` run as a cell sharing the model (cell.ts). Throws
 * (before anything runs) on a bad bundle, back end, source or sink.
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
  const cameras = camerasOf(config);
  const metrics = new PipelineMetrics({ defaultMetrics: true });
  let sinks: Sink[] = [];
  // The sinks first (a plant hears of a swap before the page shows it), then the page's model panel.
  const announceAll = async (event: ModelEventBody): Promise<void> => {
    await announce(sinks, event, logger);
    feed?.observeModelEvent(event);
  };
  const serve: ServeOptions = {
    backend: config.backend.name,
    threads: config.backend.threads,
    sessions: config.backend.sessions,
    device: config.backend.device,
    precision: config.backend.precision,
    heatmap: { mode: config.heatmap.mode, format: config.heatmap.format, quality: config.heatmap.quality, maxEdge: config.heatmap.maxEdge },
    maxBatch: config.backend.maxBatch ?? cameras.length,
    onBatch: (n) => metrics.batch(n),
    ...(config.page ? { onAnalysis: (a: Analysis) => feed?.observeAnalysis(a) } : {}),
  };
  // 'report' keeps the line running with E_BUNDLE records while the bundle is bad; 'exit' refuses to start.
  const models = await ModelSwitch.start(config.model, {
    cameras: cameras.map((c) => ({ id: c.id, roi: c.roi, thresholds: c.thresholds })),
    serve,
    shadowFrames: config.swap?.shadowFrames,
    minAgreement: config.swap?.minAgreement,
    onBundleError: config.pipeline.onBundleError,
    retryS: config.pipeline.bundleRetryS,
    logger,
    announce: (event) => announceAll(event),
  });
  const loaded = models.current;
  if (loaded) {
    for (const s of loaded.skippedBackends) logger.warn({ backend: s.name }, `back end skipped: ${s.reason}`);
    const off = loaded.shared.inner.batchingOff;
    if (off && cameras.length > 1) logger.warn({ maxBatch: serve.maxBatch }, `frames of the cameras are inferred one at a time: ${off}`);
    logger.info({ bundle: loaded.provenance, thresholds: loaded.thresholds(cameras[0]!.id), maxBatch: loaded.shared.maxBatch }, `model loaded (scoring engine ${loaded.provenance.scoringEngine})`);
  }
  let server: { url: string; close(): Promise<void> } | undefined;
  const sources: FrameSource[] = [];
  let page: StationPage | undefined;
  try {
    // Inside the try: a source that refuses its options must still release the model (its back end).
    for (const c of cameras) sources.push(sourceFromConfig(c.capture));
    if (config.metrics.port !== undefined) {
      server = await metrics.serve(config.metrics.port, config.metrics.host);
      logger.info({ url: server.url }, 'metrics endpoint');
    }
    sinks = await sinksFromConfig(config.sinks, logger);
    if (config.page) {
      feed = new StationFeed({
        metrics, sinks, frames: config.page.frames, history: config.page.history,
        camera: cameras[0]!.id,
        serving: () => models.current && servingOf(models.current, cameras),
      });
      page = await serveStationPage(feed, { port: config.page.port, host: config.page.host, token });
      logger.info({ url: page.url, token: token ? `required (${config.page.tokenEnv})` : 'none (loopback)' }, 'station page');
    }
    for (const source of sources) await source.start();
  } catch (err) {
    await Promise.allSettled([models.close(), server?.close(), page?.close(), ...sinks.map((s) => s.close()), ...sources.map((s) => s.stop())]);
    throw err;
  }
  const triggers = startSwapTriggers(config, models, sinks, logger, announceAll);
  const controller = new AbortController();
  const common = {
    sinks, signal: controller.signal, logger, metrics,
    heatmapDir: config.heatmap.dir,
    heatmapModes: parseModes(config.heatmap, 'heatmap'),
    summaryIntervalMs: config.metrics.summaryIntervalS * 1000,
    ...(feed ? { onRecord: (r: PipelineRecord) => feed!.observeRecord(r) } : {}),
  };
  const maxInFlight = config.pipeline.maxInFlight ?? config.backend.sessions + 2;
  const run = config.sources
    ? runCell({ ...common, cameras: cameras.map((c, i) => ({ id: c.id, source: sources[i]!, inspector: models.lane(c.id), ids: c.ids!, maxInFlight })) })
    : runPipeline({ ...common, source: sources[0]!, inspector: models.lane(cameras[0]!.id), maxInFlight });
  const done = run.finally(async () => {
    triggers.stop();
    // The metrics server closes even when releasing the back end fails: an open server keeps the process alive.
    try {
      await models.close();
    } finally {
      await Promise.allSettled([server?.close(), page?.close()]);
    }
  });
  return { done, stop: () => controller.abort(), metricsUrl: server?.url, ...(page ? { pageUrl: page.url } : {}), logger, models, bundleLoaded: () => models.current !== undefined };
}

/** Sends a swap outcome to every sink that carries them; a sink that fails is logged, the run goes on. */
async function announce(sinks: readonly Sink[], event: ModelEventBody, logger: Logger): Promise<void> {
  for (const sink of sinks) {
    await sink.announce?.(event).catch((err: Error) => logger.error({ sink: sink.name }, `cannot publish the model event: ${err.message}`));
  }
}

/**
 * What the station page's model panel shows of the model in service: its provenance and each camera's
 * thresholds, under the camera id its records carry (the topic's camera; a single source: the camera's id).
 */
function servingOf(served: ServedModel, cameras: readonly CameraPlan[]): StationServing {
  return {
    provenance: served.provenance,
    cameras: cameras.map((c) => ({ id: c.ids?.camera ?? c.id, ...served.thresholds(c.id) })),
  };
}

/** swap.watch and swap.commands, proposing candidates to the model switch. */
function startSwapTriggers(config: RunConfig, models: ModelSwitch, sinks: readonly Sink[], logger: Logger, announceAll: (event: ModelEventBody) => Promise<void>): { stop(): void } {
  const watcher = config.swap?.watch ? watchBundles(config.swap.watch, config.swap.pollS * 1000, (r) => models.propose(r)) : undefined;
  if (watcher) logger.info({ folder: config.swap!.watch }, 'watching for new bundles to swap in');
  if (config.swap?.commands) {
    // The MQTT sink is imported lazily (sinksFromConfig), so it is found by what it can do.
    const mqtt = sinks.find((s) => typeof (s as Partial<MqttSink>).onCommand === 'function') as MqttSink | undefined;
    mqtt?.onCommand((payload) => {
      const parsed = parseSwapCommand(payload);
      if ('request' in parsed) void models.propose(parsed.request);
      else {
        const p = models.current?.provenance;
        logger.error({}, `model candidate refused, the model in service keeps running: ${parsed.refused.reason}`);
        void announceAll({ ...parsed.refused, ...(p ? { inService: { bundleName: p.bundleName, bundleSha256: p.bundleSha256 } } : {}) });
      }
    });
  }
  return { stop: () => watcher?.stop() };
}
