import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FilesSource } from '../capture/files-source.js';
import type { InspectionResult } from '../decide/result.js';
import { MmaerecError } from '../errors.js';
import { percentile } from '../observe/summary.js';
import { Inspector } from '../pipeline/inspector.js';
import { runPipeline } from '../pipeline/runner.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../publish/embedded-broker.js';
import type { ErrorEvent, InspectionEvent } from '../publish/events.js';
import { MqttSink } from '../publish/mqtt-sink.js';
import { PipelineMetrics } from '../observe/metrics.js';
import { StationFeed } from '../observe/station-page/feed.js';
import { serveStationPage, type StationPage } from '../observe/station-page/server.js';
import { startDemoSubscriber, type DemoSubscriber } from './subscriber.js';
import { formatBox, formatScore } from '../util/format.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_DEMO_BUNDLE = path.join(packageRoot, 'models', 'demo');
export const DEFAULT_DEMO_FRAMES = path.join(packageRoot, 'examples', 'frames');

export interface DemoOptions {
  bundle?: string;
  frames?: string;
  /** Output folder (heatmaps, spool); default a new folder under the OS temp dir. */
  out?: string;
  /** Use this broker instead of starting an embedded one (MQTT 5). */
  broker?: string;
  /** Seconds to wait for the events to come back over MQTT. */
  timeoutS?: number;
  print?: (line: string) => void;
  /** Where the live station page listens (default 127.0.0.1, any free port). */
  page?: { host?: string; port?: number };
  /**
   * Keep the station page (with the broker and the sink) up after the run until this settles (`demo --serve`:
   * until Ctrl-C); without it the page closes with the run.
   */
  serveUntil?: Promise<unknown>;
  /** Called with the page's address once it listens. */
  onPage?: (url: string) => void;
}

export interface DemoSummary {
  frames: number;
  defects: number;
  errors: number;
  eventsReceived: number;
  defectEventsReceived: number;
  invalidEvents: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  heatmapDir: string;
  broker: string;
  backend: string;
  /** The live station page's address (closed again unless serveUntil kept it up). */
  pageUrl: string;
}

/** The nearest-rank percentile of an unsorted list (the run summary's rule, observe/summary.ts); NaN when empty. */
export function percentileOf(values: number[], p: number): number {
  return percentile([...values].sort((a, b) => a - b), p);
}

/**
 * The quickstart: the main job end to end on the embedded demo bundle. Frames from a folder are inspected,
 * events go to an MQTT broker (an embedded aedes unless `broker` is given), a subscriber receives and
 * validates them like a plant system, and heatmap overlays are written to a folder.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const print = options.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const bundle = options.bundle ?? DEFAULT_DEMO_BUNDLE;
  const frames = options.frames ?? DEFAULT_DEMO_FRAMES;
  const frameFiles = await readdir(frames).catch(() => {
    throw new MmaerecError('E_INPUT', `demo frames folder ${frames} cannot be read: pass --frames <dir of images>`);
  });
  const count = frameFiles.filter((f) => /\.(png|jpe?g|bmp|tiff?)$/i.test(f)).length;
  if (count === 0) throw new MmaerecError('E_INPUT', `demo frames folder ${frames} holds no images: pass --frames <dir of png/jpg images>`);
  const out = options.out ?? (await mkdtemp(path.join(tmpdir(), 'mmaerec-demo-')));
  const heatmapDir = path.join(out, 'heatmaps');
  await mkdir(heatmapDir, { recursive: true });

  // Everything started is stopped again in `finally`, also when a later step (e.g. loading the bundle) fails.
  let embedded: EmbeddedBroker | undefined;
  let subscriber: DemoSubscriber | undefined;
  let inspector: Inspector | undefined;
  let page: StationPage | undefined;
  let sink: MqttSink | undefined;
  try {
    if (!options.broker) embedded = await startEmbeddedBroker();
    const url = options.broker ?? embedded!.url;
    // aedes speaks MQTT 3.1.1 only; a real broker gets the SDK's default, MQTT 5.
    const protocol = embedded ? '3.1.1' : '5';
    print(`broker   ${url}${embedded ? ' (embedded aedes, MQTT 3.1.1)' : ''}`);

    const line = 'demo';
    const station = 'station-1';
    const camera = 'cam-1';
    subscriber = await startDemoSubscriber(url, `mmaerec/${line}/${station}/#`, protocol === '5' ? 5 : 4, (event, topic) => {
      print(describeEvent(event, topic));
    });
    const metrics = new PipelineMetrics();
    let feed: StationFeed | undefined;
    inspector = await Inspector.create(bundle, { heatmap: { mode: 'all', format: 'png' }, onAnalysis: (a) => feed?.observeAnalysis(a) });
    print(`model    ${inspector.provenance.bundleName} (sha256 ${inspector.provenance.bundleSha256.slice(0, 12)}…) on ${inspector.backend.name}`);
    for (const s of inspector.skippedBackends) print(`         skipped ${s.name}: ${s.reason}`);
    print(`frames   ${count} from ${frames}`);

    sink = await MqttSink.create({
      url,
      protocol,
      line,
      station,
      camera,
      publish: 'all',
      heartbeatMs: 0,
      spool: { kind: 'disk', dir: path.join(out, 'spool') },
      logger: conciseLogger,
    });
    const demoInspector = inspector;
    feed = new StationFeed({ metrics, sinks: [sink], camera, serving: () => ({ provenance: demoInspector.provenance, cameras: [{ id: camera, ...demoInspector.thresholds }] }) });
    page = await serveStationPage(feed, { host: options.page?.host ?? '127.0.0.1', port: options.page?.port ?? 0 });
    print(`page     ${page.url} (live station page${options.serveUntil ? ', kept up after the run: Ctrl-C ends it' : '; demo --serve keeps it up'})`);
    options.onPage?.(page.url);
    const results: InspectionResult[] = [];
    const stats = await runPipeline({
      source: new FilesSource({ patterns: [path.join(frames, '*.{png,jpg,jpeg,bmp,tif,tiff}')] }),
      inspector,
      sinks: [sink],
      heatmapDir,
      metrics,
      // served: the sink stays open, so the page goes on showing the live link
      closeSinks: !options.serveUntil,
      onRecord: (r) => {
        feed!.observeRecord(r);
        if (r.kind === 'inspection') results.push(r);
      },
    });
    await subscriber.waitFor(stats.frames, (options.timeoutS ?? 30) * 1000);
    const latencies = results.map((r) => r.latency.totalMs);
    const received = [...subscriber.events.values()];
    const summary: DemoSummary = {
      frames: stats.frames,
      defects: stats.defects,
      errors: stats.errors,
      eventsReceived: received.length,
      defectEventsReceived: received.filter((e) => 'verdict' in e && e.verdict === 'defect').length,
      invalidEvents: subscriber.invalid,
      latencyP50Ms: percentileOf(latencies, 50),
      latencyP99Ms: percentileOf(latencies, 99),
      heatmapDir,
      broker: url,
      backend: inspector.backend.name,
      pageUrl: page.url,
    };
    if (options.serveUntil) {
      print(formatSummary(summary));
      await options.serveUntil;
    }
    return summary;
  } finally {
    await page?.close();
    await sink?.close();
    await inspector?.close();
    await subscriber?.close();
    await embedded?.close();
  }
}

/** The demo's terminal is for verdicts: only the sink's warnings and errors, one plain line each. */
const conciseLogger = {
  debug() {},
  info() {},
  warn: (_: object, msg: string) => process.stderr.write(`warning: ${msg}\n`),
  error: (_: object, msg: string) => process.stderr.write(`error: ${msg}\n`),
};

function describeEvent(event: InspectionEvent | ErrorEvent, topic: string): string {
  if (!('verdict' in event)) return `mqtt ← ${topic}  frame ${event.frameId}  ERROR ${event.code}: ${event.message}`;
  const verdict = event.verdict === 'defect' ? 'DEFECT' : 'ok    ';
  const where = event.regions
    .slice(0, 3)
    .map(formatBox)
    .join(' ');
  return `mqtt ← ${topic}  frame ${event.frameId}  ${verdict} score ${formatScore(event.score)} (threshold ${formatScore(event.imageThreshold)})${event.regions.length ? `  regions ${event.regions.length}: ${where}` : ''}`;
}

export function formatSummary(s: DemoSummary): string {
  return [
    '',
    `summary  frames ${s.frames}, defects ${s.defects}, errors ${s.errors}; events received over MQTT ${s.eventsReceived} (${s.defectEventsReceived} defect, ${s.invalidEvents} invalid)`,
    `latency  p50 ${s.latencyP50Ms.toFixed(1)} ms, p99 ${s.latencyP99Ms.toFixed(1)} ms per frame on ${s.backend}`,
    `heatmaps ${s.heatmapDir}`,
  ].join('\n');
}
