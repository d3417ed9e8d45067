/**
 * Embedding the inspector in a host application: a line controller that grabs frames from its own camera SDK,
 * pushes them into a MemorySource, runs the inspection pipeline in-process and drives a reject gate from
 * each verdict, then shuts down gracefully (on the end of the input, or on SIGINT/SIGTERM: frames already
 * taken are finished first; a second signal exits at once).
 *
 *   node --import tsx examples/line-controller.ts
 *   node --import tsx examples/line-controller.ts --model models/demo --frames examples/frames --interval 100
 *
 * The camera SDK is simulated: it decodes the sample images in --frames to raw RGB pixels, as a vendor SDK
 * hands over its buffers. Output: one line per verdict, then one JSON line `{"summary": …}`.
 * Flags: --model DIR (bundle; default models/demo), --frames DIR (PNG/JPEG images; default
 * examples/frames), --image-threshold X / --pixel-threshold X (override the bundle's calibrated thresholds),
 * --interval MS (simulated frame period, default 0: as fast as the pipeline takes them).
 * Exit status: 0 when every frame got a verdict or an error record, 1 for a setup problem (one line on stderr).
 * (In your own project import from 'mmaerec-edge' instead of '../src/index.js'.)
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Inspector, MemorySource, MmaerecError, percentile, runPipeline, type PipelineRecord, type RawImage } from '../src/index.js';

function fail(message: string): never {
  process.stderr.write(`line-controller: ${message}\n`);
  process.exit(1);
}

const options = {
  model: { type: 'string' },
  frames: { type: 'string', default: path.join(import.meta.dirname, 'frames') },
  'image-threshold': { type: 'string' },
  'pixel-threshold': { type: 'string' },
  interval: { type: 'string', default: '0' },
} as const;
let flags: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
try {
  flags = parseArgs({ options }).values;
} catch (err) {
  fail(`${(err as Error).message.split('\n')[0]} (flags: --model, --frames, --image-threshold, --pixel-threshold, --interval)`);
}
const number = (flag: string, value: string | undefined, ok: (n: number) => boolean, want: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  return value.trim() !== '' && ok(n) ? n : fail(`--${flag} ${value} is invalid: give ${want}`);
};
const thresholds = {
  image: number('image-threshold', flags['image-threshold'], Number.isFinite, 'a number (the image score at or above which a frame is a defect)'),
  pixel: number('pixel-threshold', flags['pixel-threshold'], Number.isFinite, 'a number (the map value at or above which a pixel is defective)'),
};
const intervalMs = number('interval', flags.interval, (n) => n >= 0, 'a number of milliseconds ≥ 0')!;
const defaultModel = path.resolve(import.meta.dirname, '../models/demo');
const model = flags.model ?? (existsSync(path.join(defaultModel, 'manifest.json')) ? defaultModel
  : fail(`--model is missing and ${defaultModel} holds no bundle: pass --model <bundle dir> (made by "mmaerec-edge train" or "create")`));

/**
 * Stands in for a vendor camera SDK: a grab loop that delivers raw RGB buffers to a callback and waits for the
 * callback before grabbing the next (so the host's backpressure reaches the camera).
 */
class SimulatedCamera {
  private stopped = false;
  constructor(private readonly files: string[], private readonly periodMs: number) {}

  async grab(onFrame: (image: RawImage, meta: { sequence: number; timestamp: number; file: string }) => Promise<void>): Promise<void> {
    for (const [i, file] of this.files.entries()) {
      if (this.stopped) return;
      let pixels: { data: Buffer; info: { width: number; height: number; channels: number } };
      try {
        pixels = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      } catch (err) {
        throw new Error(`cannot decode ${file} (${(err as Error).message}): give --frames a folder of PNG/JPEG images`);
      }
      const { width, height, channels } = pixels.info;
      const data = new Uint8Array(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
      await onFrame({ width, height, channels: channels as 3, data }, { sequence: i + 1, timestamp: Date.now(), file: path.basename(file) });
      if (this.periodMs > 0) await new Promise((r) => setTimeout(r, this.periodMs));
    }
  }

  stop(): void {
    this.stopped = true;
  }
}

/** The line's reject gate: a real controller would set a PLC output here (OPC UA, Modbus, a GPIO pin). */
class RejectGate {
  readonly rejected: string[] = [];
  fire(frameId: string): void {
    this.rejected.push(frameId);
  }
}

const files = await readdir(flags.frames).catch((err: NodeJS.ErrnoException) =>
  fail(`--frames ${flags.frames} cannot be read (${err.code}): give a folder of PNG/JPEG images`));
const images = files.filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => path.join(flags.frames, f));
if (images.length === 0) fail(`--frames ${flags.frames} holds no .png/.jpg/.jpeg images: give a folder of sample frames`);

let inspector: Inspector;
try {
  inspector = await Inspector.create(model, { thresholds });
} catch (err) {
  fail(err instanceof MmaerecError ? err.message : String(err));
}

// `block`: the camera waits while 4 frames are queued, so no frame goes uninspected. For a free-running camera
// choose `drop-oldest`: the line then always inspects the newest frame and the summary counts the drops.
const source = new MemorySource({ name: 'cam1', policy: 'block', queueCapacity: 4 });
await source.start(); // runPipeline would start it too; started here so the camera can push before the pipeline runs
const camera = new SimulatedCamera(images, intervalMs);
const gate = new RejectGate();
const shutdown = new AbortController();
let signals = 0;
const onSignal = (): void => {
  if (++signals > 1) process.exit(130);
  process.stderr.write('line-controller: stopping: finishing the frames in flight (signal again to abort)\n');
  camera.stop();
  shutdown.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let cameraError: Error | undefined;
const grabbing = camera
  .grab(async (image, meta) => {
    await source.push({ id: `cam1-${String(meta.sequence).padStart(6, '0')}`, capturedAt: meta.timestamp, image, origin: meta.file });
  })
  .catch((err: Error) => {
    // A push refused because we are shutting down is expected; anything else stops the run.
    if (!shutdown.signal.aborted) (cameraError = err), shutdown.abort();
  })
  .finally(() => source.end());

const latencies: number[] = [];
const counts = { ok: 0, defects: 0, errors: 0 };
const onRecord = (record: PipelineRecord): void => {
  if (record.kind === 'error') {
    // Fail safe: a part that could not be inspected is diverted, like a defective one.
    counts.errors += 1;
    gate.fire(record.frameId);
    process.stdout.write(`${record.frameId} ${record.origin} error ${record.code} -> reject: ${record.message}\n`);
    return;
  }
  latencies.push(record.latency.totalMs);
  const defect = record.verdict === 'defect';
  if (defect) gate.fire(record.frameId);
  counts[defect ? 'defects' : 'ok'] += 1;
  process.stdout.write(
    `${record.frameId} ${record.origin} ${record.verdict} score=${record.score.toFixed(6)} threshold=${record.imageThreshold} ` +
      `regions=${record.regions.length} ${record.latency.totalMs.toFixed(1)}ms${defect ? ' -> reject' : ''}\n`,
  );
};

// No sinks: results are handled in-process. Add a JsonlSink or MqttSink to `sinks` to also record or publish them.
const stats = await runPipeline({ source, inspector, sinks: [], signal: shutdown.signal, maxInFlight: 3, onRecord });
await grabbing;
await inspector.close();
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
if (cameraError) fail(cameraError.message);

const round = (ms: number): number => Math.round(ms * 100) / 100;
const summary = {
  frames: stats.frames,
  ok: counts.ok,
  defects: counts.defects,
  errors: counts.errors,
  rejected: gate.rejected.length,
  dropped: stats.dropped,
  latencyMs: latencies.length ? { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) } : null,
  thresholds: { image: inspector.thresholds.image, pixel: inspector.thresholds.pixel, source: inspector.thresholds.source },
  model: inspector.provenance,
  stopped: signals > 0,
};
process.stdout.write(`${JSON.stringify({ summary })}\n`);
