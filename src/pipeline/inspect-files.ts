import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Frame } from '../capture/frame.js';
import { MemorySource } from '../capture/memory-source.js';
import { MmaerecError } from '../errors.js';
import type { Roi } from '../preprocess/roi.js';
import { StdoutSink } from '../publish/stdout-sink.js';
import { Inspector } from './inspector.js';
import { runPipeline, type RunStats } from './runner.js';

export interface InspectFilesOptions {
  bundle: string;
  images: string[];
  json?: boolean;
  heatmapDir?: string;
  heatmapFormat?: 'png' | 'jpeg';
  /** Longest edge of a heatmap in pixels (default 1024). */
  heatmapMaxEdge?: number;
  roi?: Roi;
  thresholds?: { image?: number; pixel?: number };
  backend?: 'auto' | 'onnxruntime' | 'tensorrt';
  threads?: number;
  sessions?: number;
  /** 'int8': the bundle's INT8 model (ONNX Runtime CPU). */
  precision?: 'fp32' | 'int8';
}

/**
 * One-off inspection of image files (`mmaerec-edge inspect`): the same pipelined runner as `run`, fed by an
 * in-memory source in the order given, printing one record per image to stdout. A file that cannot be read
 * becomes one E_INPUT record with the reason (no such file, a folder, permission denied), like an undecodable
 * one; it never reaches the decoder.
 */
export async function inspectFiles(o: InspectFilesOptions): Promise<RunStats> {
  const inspector = await Inspector.create(o.bundle, {
    backend: o.backend, threads: o.threads, sessions: o.sessions, precision: o.precision, roi: o.roi,
    thresholds: { ...(o.thresholds?.image !== undefined ? { image: o.thresholds.image } : {}), ...(o.thresholds?.pixel !== undefined ? { pixel: o.thresholds.pixel } : {}) },
    heatmap: { mode: o.heatmapDir ? 'all' : 'off', format: o.heatmapFormat ?? 'png', ...(o.heatmapMaxEdge !== undefined ? { maxEdge: o.heatmapMaxEdge } : {}) },
  });
  const source = new MemorySource({ name: 'files', queueCapacity: 4 });
  // Frames of files that could not be read, with the reason: their record is that reason, not a decode error.
  const unreadable = new WeakMap<Frame, MmaerecError>();
  const gate = {
    inspectRecord: (frame: Frame) => {
      const err = unreadable.get(frame);
      return err ? Promise.resolve(inspector.errorRecord(frame, err)) : inspector.inspectRecord(frame);
    },
  };
  await source.start();
  const feeding = (async () => {
    for (const file of o.images) {
      let frame: Frame;
      try {
        const image = await readFile(file);
        frame = { id: file, capturedAt: Math.round((await stat(file)).mtimeMs), image, origin: file };
      } catch (err) {
        frame = { id: file, capturedAt: Date.now(), image: new Uint8Array(0), origin: file };
        unreadable.set(frame, cannotRead(file, err));
      }
      await source.push(frame);
    }
    source.end();
  })();
  try {
    const stats = await runPipeline({ source, inspector: gate, sinks: [new StdoutSink({ format: o.json ? 'json' : 'text' })], heatmapDir: o.heatmapDir, maxInFlight: (o.sessions ?? 1) + 2 });
    await feeding;
    return stats;
  } catch (err) {
    // The pipeline failed (e.g. stdout closed): stop the source so that a feeder waiting for queue room gets
    // its rejection now, and swallow that one — the pipeline's error is the one to report.
    await source.stop();
    await feeding.catch(() => undefined);
    throw err;
  } finally {
    await inspector.close();
  }
}

/** Why `file` could not be read, as the one line its record carries. */
export function cannotRead(file: string, err: unknown): MmaerecError {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return new MmaerecError('E_INPUT', `cannot read ${file}: no such file: check the path`);
    case 'EISDIR':
      return new MmaerecError('E_INPUT', `${file} is a folder, not an image: give the image files in it (e.g. ${path.join(file, '*.png')})`);
    case 'EACCES':
    case 'EPERM':
      return new MmaerecError('E_INPUT', `cannot read ${file}: permission denied: check the file's permissions`);
    case 'ENOTDIR':
      return new MmaerecError('E_INPUT', `cannot read ${file}: a part of the path is a file, not a folder: check the path`);
    default:
      return new MmaerecError('E_INPUT', `cannot read ${file} (${code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))}): check the path`);
  }
}
