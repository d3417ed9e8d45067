import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineRecord } from '../decide/result.js';
import { MmaerecError } from '../errors.js';

const STAGES = ['decode', 'preprocess', 'infer', 'score', 'total'] as const;

const cameraLabel = (camera: string | undefined): { camera?: string } => (camera === undefined ? {} : { camera });

/** What PipelineMetrics.totals() returns: counts since the pipeline started. */
export interface MetricTotals {
  /** Inspected frames with verdict ok, and with verdict defect. */
  ok: number;
  defects: number;
  /** Frames that produced an error record. */
  errors: number;
  /** Frames discarded by drop-oldest backpressure. */
  drops: number;
  restarts: number;
}

/**
 * Prometheus metrics of one pipeline, in its own registry (several pipelines in one process do not collide):
 * per-stage latency histograms, and counters of frames, defects, errors (by code), drops, restarts and
 * heatmaps that could not be rendered (the frame's verdict stands; its record carries the warning).
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  // `camera` is set for the cameras of a cell (sources:) and absent for a single source, whose series stay as they were.
  private readonly stage: Histogram<'stage' | 'camera'>;
  private readonly frames: Counter<'verdict' | 'camera'>;
  private readonly errors: Counter<'code' | 'camera'>;
  private readonly drops: Counter<'camera'>;
  private readonly restarts: Counter<'camera'>;
  private readonly heatmapFailures: Counter<'camera'>;
  private readonly batches: Histogram;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.stage = new Histogram({
      name: 'mmaerec_stage_seconds',
      help: 'Latency of each pipeline stage per frame (total = capture queue exit to result)',
      labelNames: ['stage', 'camera'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.frames = new Counter({ name: 'mmaerec_frames_total', help: 'Frames inspected, by verdict', labelNames: ['verdict', 'camera'], registers: [this.registry] });
    this.errors = new Counter({ name: 'mmaerec_errors_total', help: 'Frames that produced an error record, by code', labelNames: ['code', 'camera'], registers: [this.registry] });
    this.drops = new Counter({ name: 'mmaerec_dropped_frames_total', help: 'Frames discarded by drop-oldest backpressure', labelNames: ['camera'], registers: [this.registry] });
    this.restarts = new Counter({ name: 'mmaerec_source_restarts_total', help: 'Capture process restarts', labelNames: ['camera'], registers: [this.registry] });
    this.heatmapFailures = new Counter({
      name: 'mmaerec_heatmap_failures_total',
      help: 'Inspected frames whose heatmap could not be rendered (the verdict stands; the record carries a warning)',
      labelNames: ['camera'],
      registers: [this.registry],
    });
    this.batches = new Histogram({
      name: 'mmaerec_batch_frames',
      help: 'Frames per inference run of the shared back end (frames of several cameras batched into one run)',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
      registers: [this.registry],
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one record and observes its stage latencies. */
  observe(record: PipelineRecord): void {
    const camera = cameraLabel(record.camera?.camera);
    if (record.kind === 'error') {
      this.errors.inc({ code: record.code, ...camera });
      return;
    }
    this.frames.inc({ verdict: record.verdict, ...camera });
    if (record.warnings?.some((w) => w.kind === 'heatmap')) this.heatmapFailures.inc(camera);
    const l = record.latency;
    const values = [l.decodeMs, l.preprocessMs, l.inferMs, l.scoreMs, l.totalMs];
    STAGES.forEach((stage, i) => this.stage.observe({ stage, ...camera }, values[i]! / 1000));
  }

  drop(count = 1, camera?: string): void {
    this.drops.inc(cameraLabel(camera), count);
  }

  restart(camera?: string): void {
    this.restarts.inc(cameraLabel(camera));
  }

  /** One inference run of `frames` frames on the shared back end. */
  batch(frames: number): void {
    this.batches.observe(frames);
  }

  /**
   * The running totals these counters hold (frames by verdict, errors, drops, restarts), for pages and health
   * checks that show them without keeping counts of their own.
   */
  async totals(): Promise<MetricTotals> {
    const sum = async (c: Counter<string>) => (await c.get()).values.reduce((n, v) => n + v.value, 0);
    const byVerdict = (await this.frames.get()).values;
    const verdict = (v: string) => byVerdict.filter((x) => x.labels.verdict === v).reduce((n, x) => n + x.value, 0);
    return { ok: verdict('ok'), defects: verdict('defect'), errors: await sum(this.errors), drops: await sum(this.drops), restarts: await sum(this.restarts) };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves GET (and HEAD) /metrics on host:port (port 0: any free port); any other path is 404. */
  async serve(port: number, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      // Only the path decides (a query string such as Prometheus' `name[]=` is ignored), compared as sent:
      // `/`, `/metrics/`, `//metrics` and the like are other paths.
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found: metrics are at /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('method not allowed: use GET /metrics\n');
        return;
      }
      this.text().then(
        (body) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`cannot collect metrics: ${err.message.split('\n')[0]}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MmaerecError('E_CONFIG', `cannot serve metrics on ${host}:${port} (${err.code ?? err.message}): choose another metrics.port`)),
      );
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actual = typeof addr === 'object' && addr ? addr.port : port;
    return {
      url: `http://${host}:${actual}/metrics`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
