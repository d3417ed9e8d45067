import path from 'node:path';
import type { Frame } from '../capture/frame.js';
import type { FrameSource, SourceEvent } from '../capture/source.js';
import { errorRecordFor, type PipelineRecord } from '../decide/result.js';
import type { PipelineMetrics } from '../observe/metrics.js';
import { RunSummary } from '../observe/summary.js';
import type { Sink } from '../publish/sink.js';
import { mkdirPrivate, writeFilePrivate } from '../util/files.js';

/** The logging calls the runner makes (pino's shape). */
export interface RunLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RunOptions {
  /** Started here if the caller has not (an unstarted source would never end its iteration). */
  source: FrameSource;
  /** Turns a frame into a record, never rejecting for a frame-level problem (Inspector.inspectRecord). */
  inspector: { inspectRecord(frame: Frame): Promise<PipelineRecord> };
  sinks: Sink[];
  /** Frames being inspected at once (default 3: one decoding, one inferring, one scoring). */
  maxInFlight?: number;
  /** Stops the run gracefully: the source stops, frames already taken finish, sinks are flushed and closed. */
  signal?: AbortSignal;
  /** Save heatmaps here as <frame id>.<format>; records then carry the path. */
  heatmapDir?: string;
  /** Modes of the heatmap files and of the folder when the run creates it (default 0o600 / 0o700, whatever the umask). */
  heatmapModes?: { file?: number; dir?: number };
  logger?: RunLogger;
  metrics?: PipelineMetrics;
  /** Interval of the one-line summary in the log (0 or absent: none). */
  summaryIntervalMs?: number;
  /** Called with each record after every sink has accepted it. */
  onRecord?: (record: PipelineRecord) => void;
  /** Close the sinks at the end (default true). */
  closeSinks?: boolean;
  /** The camera of a cell this run serves: labels its drop and restart metrics. */
  camera?: string;
}

export interface RunStats {
  frames: number;
  inspected: number;
  defects: number;
  errors: number;
  dropped: number;
  restarts: number;
  sinkFailures: number;
  /**
   * Messages the sinks still hold at the end (MQTT: left in the spool, never acknowledged by the broker): they are
   * delivered by the next start on the same spool. `mmaerec-edge run` then exits 3.
   */
  undelivered: number;
}

const silent: RunLogger = { info() {}, warn() {}, error() {} };

/**
 * Connects a source, an inspector and sinks. Up to `maxInFlight` frames are inspected at once (so decode,
 * inference and scoring of successive frames overlap); records reach the sinks in frame order. A frame that
 * fails becomes an error record and the run goes on; a sink that fails is logged and counted, and the other
 * sinks still get the record. Resolves when the source ends or the signal fires, after every frame taken from
 * the source has reached every sink and the sinks are flushed (and closed).
 */
export async function runPipeline(options: RunOptions): Promise<RunStats> {
  const { source, inspector, sinks, signal } = options;
  const log = options.logger ?? silent;
  const maxInFlight = options.maxInFlight ?? 3;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`Expected a positive integer for maxInFlight but received ${maxInFlight}`);
  const stats: RunStats = { frames: 0, inspected: 0, defects: 0, errors: 0, dropped: 0, restarts: 0, sinkFailures: 0, undelivered: 0 };
  const summary = new RunSummary();

  const onEvent = (e: SourceEvent): void => {
    switch (e.type) {
      case 'drop':
        stats.dropped += 1;
        options.metrics?.drop(1, options.camera);
        summary.setDrops(stats.dropped);
        if (stats.dropped === 1 || stats.dropped % 100 === 0) log.warn({ source: e.source, dropped: stats.dropped }, 'frames dropped: the pipeline is slower than the camera (drop-oldest)');
        break;
      case 'restart':
        stats.restarts += 1;
        options.metrics?.restart(options.camera);
        log.warn({ source: e.source, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }, 'capture process restarting');
        break;
      case 'exit':
        log.warn({ source: e.source, code: e.code, signal: e.signal, stderr: e.stderr }, 'capture process exited');
        break;
      case 'stall':
        log.error({ source: e.source, silentMs: e.silentMs }, 'capture stalled: no frame, killing the process');
        break;
      case 'error':
        log.error({ source: e.source, origin: e.origin }, e.message);
        break;
      default:
        log.info({ source: e.source }, `source ${e.type}`);
    }
  };
  source.on('event', onEvent);

  const stop = (): void => {
    log.info({ source: source.name }, 'stopping: finishing frames in flight');
    void source.stop();
  };
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });

  const timer =
    options.summaryIntervalMs && options.summaryIntervalMs > 0
      ? setInterval(() => log.info({ summary: true }, RunSummary.line(summary.take())), options.summaryIntervalMs)
      : undefined;
  timer?.unref();

  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let writes: Promise<void> = Promise.resolve();
  /** The first error thrown while delivering (onRecord, metrics): the run stops and rejects with it. */
  let failure: { error: unknown } | undefined;

  const deliver = async (record: PipelineRecord): Promise<void> => {
    if (record.kind === 'error') {
      stats.errors += 1;
      log.error({ frameId: record.frameId, origin: record.origin, code: record.code }, record.message);
    } else {
      stats.inspected += 1;
      if (record.verdict === 'defect') stats.defects += 1;
      if (record.heatmap && options.heatmapDir) await saveHeatmap(record, options.heatmapDir, log, options.heatmapModes);
    }
    options.metrics?.observe(record);
    summary.add(record);
    const outcomes = await Promise.allSettled(sinks.map((s) => s.write(record)));
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') {
        stats.sinkFailures += 1;
        log.error({ sink: sinks[i]!.name, frameId: record.frameId }, `sink failed: ${(o.reason as Error)?.message ?? String(o.reason)}`);
      }
    });
    options.onRecord?.(record);
  };

  try {
    await source.start();
    for await (const frame of source) {
      stats.frames += 1;
      while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (slotFreed = resolve));
      inFlight += 1;
      const record = inspector.inspectRecord(frame).catch((err: unknown) => errorFor(frame, err));
      // Chained: records reach the sinks in frame order even when a later frame finishes first.
      writes = writes.then(async () => {
        try {
          await deliver(await record);
        } catch (err) {
          // Caught here so the chain goes on: a rejected chain would skip every later record and never free
          // its slot (the loop above would wait forever). The frames already taken still reach the sinks.
          if (!failure) {
            failure = { error: err };
            log.error({ frameId: frame.id }, `delivering a record failed, stopping the run: ${(err as Error)?.message ?? String(err)}`);
            stop();
          }
        } finally {
          inFlight -= 1;
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        }
      });
    }
  } finally {
    await writes;
    signal?.removeEventListener('abort', stop);
    source.off('event', onEvent);
    if (timer) clearInterval(timer);
    await source.stop();
    const s = source.stats();
    stats.dropped = Math.max(stats.dropped, s.dropped);
    for (const sink of sinks) {
      try {
        await sink.flush();
        if (options.closeSinks !== false) await sink.close();
      } catch (err) {
        stats.sinkFailures += 1;
        log.error({ sink: sink.name }, `sink flush/close failed: ${(err as Error).message}`);
      }
    }
    const left: { sink: string; messages: number }[] = [];
    for (const sink of sinks) {
      const messages = sink.undelivered?.() ?? 0;
      if (messages > 0) left.push({ sink: sink.name, messages });
    }
    stats.undelivered = left.reduce((n, l) => n + l.messages, 0);
    summary.setDrops(stats.dropped);
    const line = `run finished: ${RunSummary.line(summary.take())}${RunSummary.undeliveredLine(left)}`;
    if (stats.undelivered > 0) log.warn({ ...stats }, line);
    else log.info({ ...stats }, line);
  }
  if (failure) throw failure.error;
  return stats;
}

/** Safety net for an inspector that rejects anyway: the frame still gets a record. */
function errorFor(frame: Frame, err: unknown): PipelineRecord {
  return errorRecordFor(frame, (err as { code?: string })?.code ?? 'E_INFER', err instanceof Error ? err.message : String(err));
}

/**
 * The heatmap file of a frame: its id without the image extension, then `.heatmap.png` (or `.jpg`):
 * `crack-1.png` gives `crack-1.heatmap.png`, not `crack-1.png.png`. Folders in the id ("sub/a.png") are flattened
 * so that every heatmap lands in the one folder.
 */
export function heatmapFileName(frameId: string, format: 'png' | 'jpeg'): string {
  const stem = frameId.replace(/\.(png|jpe?g|bmp|tiff?|webp|gif)$/i, '');
  return `${stem.replace(/[\\/]/g, '__').replace(/[^\w.@-]/g, '_')}.heatmap.${format === 'jpeg' ? 'jpg' : 'png'}`;
}

async function saveHeatmap(record: Extract<PipelineRecord, { kind: 'inspection' }>, dir: string, log: RunLogger, modes: RunOptions['heatmapModes'] = {}): Promise<void> {
  const heatmap = record.heatmap!;
  const name = heatmapFileName(record.frameId, heatmap.format);
  const file = path.join(dir, name);
  try {
    await mkdirPrivate(dir, modes.dir);
    await writeFilePrivate(file, heatmap.data, modes.file);
    heatmap.path = file;
  } catch (err) {
    log.error({ frameId: record.frameId, file }, `cannot save heatmap: ${(err as Error).message}`);
  }
}
