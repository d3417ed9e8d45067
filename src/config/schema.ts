import { z } from 'zod';
import { modeString, mqttSinkOptionsSchema } from '../publish/mqtt-config.js';

/**
 * The `mmaerec-edge run` config (YAML or JSON). Strict objects everywhere: a misspelled key is an error that
 * names it, not a silently ignored setting on a production line. See docs/architecture.md, "Run config".
 */
const positiveInt = z.number().int().positive();

/**
 * Bounds on every number (issue 15, item 4): a setting beyond what the machine can mean is an E_CONFIG line at
 * load time, not a hang or a crash later. Timers: setTimeout fires at once beyond 2^31 − 1 ms (≈ 24.8 days).
 * Frame sides: the decoder's pixel limit (src/preprocess/decode.ts, 16383²). Threads: 256 per session here;
 * `run` and `run --check` also refuse threads × sessions above 4 × the CPUs the machine has
 * (src/config/check.ts, maxThreadsHere).
 */
export const MAX_TIMER_MS = 2_147_483_647;
export const MAX_INTERVAL_S = Math.floor(MAX_TIMER_MS / 1000);
export const MAX_FRAME_SIDE = 0x3fff;
export const MAX_THREADS = 256;
export const MAX_QUEUE_CAPACITY = 1024;
const ms = () => z.number().nonnegative().max(MAX_TIMER_MS);
const positiveMs = () => z.number().positive().max(MAX_TIMER_MS);
const side = () => positiveInt.max(MAX_FRAME_SIDE);

export const roiSchema = z.strictObject({
  x: z.number().int().nonnegative().max(MAX_FRAME_SIDE - 1),
  y: z.number().int().nonnegative().max(MAX_FRAME_SIDE - 1),
  width: side(),
  height: side(),
});

export const queueSchema = z.strictObject({
  /** Frames buffered between capture and inspection. */
  capacity: positiveInt.max(MAX_QUEUE_CAPACITY).default(8),
  /** Default: `block` for files, `drop-oldest` for cameras. */
  policy: z.enum(['block', 'drop-oldest']).optional(),
});

const backoffSchema = z
  .strictObject({
    initialMs: positiveMs().default(250),
    maxMs: positiveMs().default(30_000),
  })
  // Checked here, as the capture Backoff would otherwise throw a bare RangeError when the source is built.
  .refine((b) => b.maxMs >= b.initialMs, { path: ['maxMs'], error: 'is below backoff.initialMs' });

export const filesSourceSchema = z.strictObject({
  type: z.literal('files'),
  /** Glob pattern(s) or folder(s). */
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Keep running and inspect files that appear later. */
  watch: z.boolean().default(false),
  includeExisting: z.boolean().default(true),
  stableMs: ms().default(150),
  pollMs: z.number().min(10).max(MAX_TIMER_MS).default(250).describe('milliseconds between scans of the folders (at least 10)'),
  queue: queueSchema.optional(),
});

const processSourceFields = {
  /** Video file, RTSP/HTTP URL, or V4L2 device. */
  input: z.string().min(1),
  /** Frame size the capture process scales to (usually the camera's native size). */
  width: side(),
  height: side(),
  fps: z.number().positive().max(1000).optional(),
  restart: z.boolean().optional(),
  backoff: backoffSchema.optional(),
  maxRestarts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  stallTimeoutMs: ms().default(10_000),
  firstFrameTimeoutMs: ms().optional(),
  queue: queueSchema.optional(),
};

export const ffmpegSourceSchema = z.strictObject({
  type: z.literal('ffmpeg'),
  ...processSourceFields,
  realtime: z.boolean().default(false),
  loop: z.boolean().default(false),
  inputArgs: z.array(z.string()).default([]),
  ffmpegPath: z.string().optional(),
});

export const gstreamerSourceSchema = z.strictObject({
  type: z.literal('gstreamer'),
  ...processSourceFields,
  sourceElements: z.string().optional(),
  gstLaunchPath: z.string().optional(),
});

export const sourceSchema = z.discriminatedUnion('type', [filesSourceSchema, ffmpegSourceSchema, gstreamerSourceSchema]);

export const jsonlSinkSchema = z.strictObject({
  type: z.literal('jsonl'),
  path: z.string().min(1),
  heatmaps: z.enum(['omit', 'inline']).default('omit'),
  fsync: z.boolean().default(true),
  fileMode: modeString('file').optional().describe('mode of the file when the sink creates it, quoted octal (default "0600"); an existing file keeps its mode'),
  dirMode: modeString('dir').optional().describe('mode of the folders the sink creates for the file, quoted octal (default "0700")'),
});

export const stdoutSinkSchema = z.strictObject({
  type: z.literal('stdout'),
  format: z.enum(['json', 'text']).default('json'),
  heatmaps: z.enum(['omit', 'inline']).default('omit'),
});

/** The MQTT sink's own option schema (src/publish/mqtt-config.ts), plus the `type` tag. */
export const mqttSinkSchema = mqttSinkOptionsSchema.extend({ type: z.literal('mqtt') });

export const sinkSchema = z.discriminatedUnion('type', [jsonlSinkSchema, stdoutSinkSchema, mqttSinkSchema]);

export const heatmapPolicySchema = z.strictObject({
  /** Which frames get a heatmap: none, defects only, or every frame. */
  mode: z.enum(['off', 'defects', 'all']).default('off'),
  format: z.enum(['png', 'jpeg']).default('png'),
  quality: z.number().int().min(1).max(100).default(85),
  maxEdge: positiveInt.max(16384).default(1024)
    .describe('longest edge of a heatmap in pixels; larger frames are drawn scaled down (aspect kept), so that a heatmap costs bounded time and memory whatever the camera resolution'),
  /** Save each heatmap as <dir>/<frame id>.<format>; the record then carries its path. */
  dir: z.string().min(1).optional(),
  fileMode: modeString('file').optional().describe('mode of the saved heatmap files, quoted octal (default "0600"), set whatever the umask'),
  dirMode: modeString('dir').optional().describe('mode of heatmap.dir when the run creates it, quoted octal (default "0700")'),
});

export const runConfigSchema = z.strictObject({
  /** Bundle directory (relative paths are relative to the config file). */
  model: z.string().min(1),
  backend: z
    .strictObject({
      name: z.enum(['auto', 'onnxruntime', 'tensorrt']).default('auto'),
      threads: positiveInt.max(MAX_THREADS).optional()
        .describe("CPU threads per session (ONNX Runtime intra-op); default: the runtime's choice. `run` refuses threads × sessions above 4 × the machine's CPUs"),
      sessions: positiveInt.max(16).default(1)
        .describe('model sessions inferring frames side by side (ONNX Runtime); on 2 cores, 2 with threads 1 gives the most frames/s, 1 with threads 2 the lowest latency'),
      device: z.enum(['cpu', 'cuda']).optional(),
      precision: z.enum(['fp32', 'int8']).default('fp32')
        .describe("int8: the bundle's INT8 model (mmaerec-edge quantize) on ONNX Runtime CPU; fp32: model.onnx. TensorRT's precision is its engine's (build-engine)"),
      requireNativeScoring: z.boolean().default(true)
        .describe('refuse to start (E_NATIVE) when the native scoring core did not load, instead of scoring with the TypeScript fallback (≈ 5–50× slower)'),
    })
    .default({ name: 'auto', sessions: 1, precision: 'fp32', requireNativeScoring: true }),
  source: sourceSchema,
  roi: roiSchema.optional(),
  thresholds: z.strictObject({ image: z.number().optional(), pixel: z.number().optional() }).default({}),
  sinks: z.array(sinkSchema).min(1),
  heatmap: heatmapPolicySchema.default({ mode: 'off', format: 'png', quality: 85, maxEdge: 1024 }),
  pipeline: z
    .strictObject({
      maxInFlight: positiveInt.max(64).optional().describe('frames inspected at once; default backend.sessions + 2, so that decoding and scoring overlap inference'),
      /** Bundle missing/tampered at start: `exit` (refuse to start) or `report` (E_BUNDLE record per frame, retry). */
      onBundleError: z.enum(['exit', 'report']).default('report'),
      bundleRetryS: z.number().positive().max(MAX_INTERVAL_S).default(10),
    })
    .default({ onBundleError: 'report', bundleRetryS: 10 }),
  metrics: z
    .strictObject({
      /** Prometheus endpoint port (absent: no endpoint). */
      port: z.number().int().min(0).max(65535).optional(),
      host: z.string().default('127.0.0.1'),
      /** Seconds between one-line summaries in the log (0: off). */
      summaryIntervalS: z.number().nonnegative().max(MAX_INTERVAL_S).default(10),
    })
    .default({ host: '127.0.0.1', summaryIntervalS: 10 }),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** Log file (default stderr). */
      file: z.string().optional(),
    })
    .default({ level: 'info' }),
});

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type SinkConfig = z.infer<typeof sinkSchema>;
export type HeatmapPolicy = z.infer<typeof heatmapPolicySchema>;
