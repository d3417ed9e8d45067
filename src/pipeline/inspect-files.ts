import { readFile, stat } from 'node:fs/promises';
import { MemorySource } from '../capture/memory-source.js';
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
  roi?: Roi;
  thresholds?: { image?: number; pixel?: number };
  backend?: 'auto' | 'onnxruntime' | 'tensorrt';
  threads?: number;
  sessions?: number;
}

/**
 * One-off inspection of image files (`mmaerec-edge inspect`): the same pipelined runner as `run`, fed by an
 * in-memory source in the order given, printing one record per image to stdout. A file that cannot be read
 * becomes an error record like an undecodable one.
 */
export async function inspectFiles(o: InspectFilesOptions): Promise<RunStats> {
  const inspector = await Inspector.create(o.bundle, {
    backend: o.backend, threads: o.threads, sessions: o.sessions, roi: o.roi,
    thresholds: { ...(o.thresholds?.image !== undefined ? { image: o.thresholds.image } : {}), ...(o.thresholds?.pixel !== undefined ? { pixel: o.thresholds.pixel } : {}) },
    heatmap: { mode: o.heatmapDir ? 'all' : 'off', format: o.heatmapFormat ?? 'png' },
  });
  const source = new MemorySource({ name: 'files', queueCapacity: 4 });
  await source.start();
  const feeding = (async () => {
    for (const file of o.images) {
      let image: Uint8Array;
      let capturedAt = Date.now();
      try {
        image = await readFile(file);
        capturedAt = Math.round((await stat(file)).mtimeMs);
      } catch (err) {
        // An empty image makes the inspector report E_INPUT for this file; the reason goes in the id's record.
        process.stderr.write(`mmaerec-edge: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path\n`);
        image = new Uint8Array(0);
      }
      await source.push({ id: file, capturedAt, image, origin: file });
    }
    source.end();
  })();
  try {
    const stats = await runPipeline({ source, inspector, sinks: [new StdoutSink({ format: o.json ? 'json' : 'text' })], heatmapDir: o.heatmapDir, maxInFlight: (o.sessions ?? 1) + 2 });
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
