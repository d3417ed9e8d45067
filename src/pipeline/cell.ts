import type { FrameSource } from '../capture/source.js';
import type { CameraIds, PipelineRecord } from '../decide/result.js';
import type { Frame } from '../capture/frame.js';
import { runPipeline, type RunLogger, type RunOptions, type RunStats } from './runner.js';

/** One camera of a cell: its source, the inspector that serves it, and the ids its records carry. */
export interface CellCamera {
  id: string;
  source: FrameSource;
  inspector: { inspectRecord(frame: Frame): Promise<PipelineRecord> };
  ids: CameraIds;
  /** Frames of this camera inspected at once (its bounded share of the shared back end). */
  maxInFlight?: number;
}

export type CellOptions = Omit<RunOptions, 'source' | 'inspector' | 'closeSinks' | 'camera' | 'maxInFlight'> & { cameras: CellCamera[] };

export interface CellStats extends RunStats {
  /** Each camera's own counts (frames, drops, errors …); `undelivered` is the cell's, at the end. */
  cameras: Record<string, RunStats>;
}

/**
 * Runs the cameras of a cell side by side, each through its own pipeline (runner.ts: its source's bounded queue
 * and drop counter, its frames in order), all into the same sinks. Fairness comes from the bounds: a camera has
 * at most `maxInFlight` frames taken, its queue drops its own oldest frames when it floods, and the shared back
 * end serves the cameras round-robin (src/infer/shared-backend.ts); a stalled camera holds nothing. One camera's
 * delivery failure stops them all. The sinks are flushed and closed once, after every camera has finished.
 */
export async function runCell(options: CellOptions): Promise<CellStats> {
  const { cameras, sinks, ...shared } = options;
  const stopAll = new AbortController();
  const onAbort = (): void => stopAll.abort();
  if (shared.signal?.aborted) stopAll.abort();
  else shared.signal?.addEventListener('abort', onAbort, { once: true });
  const runs = cameras.map((c) =>
    runPipeline({
      ...shared,
      sinks,
      source: c.source,
      // The camera is set on the record itself, not on a copy: the station page pairs a record with the
      // inspector's analysis of it (its images) by identity.
      inspector: { inspectRecord: async (frame) => Object.assign(await c.inspector.inspectRecord(frame), { camera: c.ids }) },
      maxInFlight: c.maxInFlight,
      signal: stopAll.signal,
      closeSinks: false,
      camera: c.id,
      logger: shared.logger && withCamera(shared.logger, c.id),
    }).catch((err: unknown) => {
      stopAll.abort();
      throw err;
    }),
  );
  const settled = await Promise.allSettled(runs);
  shared.signal?.removeEventListener('abort', onAbort);
  let sinkFailures = 0;
  for (const sink of sinks) {
    try {
      await sink.close();
    } catch (err) {
      sinkFailures += 1;
      shared.logger?.error({ sink: sink.name }, `sink close failed: ${(err as Error).message}`);
    }
  }
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const per = Object.fromEntries(cameras.map((c, i) => [c.id, (settled[i] as PromiseFulfilledResult<RunStats>).value]));
  const total: CellStats = { frames: 0, inspected: 0, defects: 0, errors: 0, dropped: 0, restarts: 0, sinkFailures, undelivered: 0, cameras: per };
  for (const s of Object.values(per)) {
    for (const k of ['frames', 'inspected', 'defects', 'errors', 'dropped', 'restarts', 'sinkFailures'] as const) total[k] += s[k];
  }
  total.undelivered = sinks.reduce((n, s) => n + (s.undelivered?.() ?? 0), 0);
  return total;
}

/** The run logger with the camera id in every line. */
function withCamera(log: RunLogger, camera: string): RunLogger {
  return {
    info: (obj, msg) => log.info({ camera, ...obj }, msg),
    warn: (obj, msg) => log.warn({ camera, ...obj }, msg),
    error: (obj, msg) => log.error({ camera, ...obj }, msg),
  };
}
