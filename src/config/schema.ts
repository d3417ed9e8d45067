import { z } from 'zod';
import { isLoopback } from '../observe/station-page/auth.js';
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
  x: z.number().int().nonnegative().max(MAX_FRAME_SIDE - 1).describe('left edge of the region of interest, in frame pixels'),
  y: z.number().int().nonnegative().max(MAX_FRAME_SIDE - 1).describe('top edge of the region of interest, in frame pixels'),
  width: side().describe('width of the region of interest in pixels; x + width must fit the frame'),
  height: side().describe('height of the region of interest in pixels; y + height must fit the frame'),
});

export const queueSchema = z.strictObject({
  capacity: positiveInt.max(MAX_QUEUE_CAPACITY).default(8).describe('frames buffered between capture and inspection'),
  policy: z.enum(['block', 'drop-oldest']).optional()
    .describe('when the buffer is full: `block` pauses capture (no frame lost), `drop-oldest` drops the oldest frame (live cameras); default: block for files and video files, drop-oldest for live inputs'),
});

const backoffSchema = z
  .strictObject({
    initialMs: positiveMs().default(250).describe('milliseconds before the first restart of the capture process (jittered, doubling after each failed restart)'),
    maxMs: positiveMs().default(30_000).describe('longest wait between restarts, in milliseconds (at least initialMs)'),
  })
  // Checked here, as the capture Backoff would otherwise throw a bare RangeError when the source is built.
  .refine((b) => b.maxMs >= b.initialMs, { path: ['maxMs'], error: 'is below backoff.initialMs' });

export const filesSourceSchema = z.strictObject({
  type: z.literal('files').describe('image files from folders or glob patterns'),
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('glob pattern(s) or folder(s) of images (relative to the config file)'),
  watch: z.boolean().default(false).describe('keep running and inspect files that appear later (otherwise: the files present, then exit)'),
  includeExisting: z.boolean().default(true).describe('watch mode: also inspect the files present at start'),
  stableMs: ms().default(150).describe('watch mode: a new file is read once its size and modification time have not changed for this many milliseconds (still being written otherwise)'),
  pollMs: z.number().min(10).max(MAX_TIMER_MS).default(250).describe('milliseconds between scans of the folders (at least 10)'),
  queue: queueSchema.optional(),
});

const processSourceFields = {
  input: z.string().min(1).describe('video file, RTSP/HTTP/UDP URL, or V4L2 device such as /dev/video0'),
  width: side().describe("frame width the capture process scales to (usually the camera's native width)"),
  height: side().describe("frame height the capture process scales to (usually the camera's native height)"),
  fps: z.number().positive().max(1000).optional().describe("frames per second delivered (frames are dropped or repeated to match); default: the input's rate"),
  restart: z.boolean().optional().describe('restart the capture process when it exits or stalls; default: true for live inputs, false for video files'),
  backoff: backoffSchema.optional(),
  maxRestarts: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional()
    .describe('give up after this many restarts in a row without a frame in between; default: never'),
  stallTimeoutMs: ms().default(10_000).describe('no frame for this many milliseconds while running: the process is killed and restarted (0 = off)'),
  firstFrameTimeoutMs: ms().optional().describe('patience for the first frame after a (re)start, in milliseconds (connecting to a camera takes longer); default: max(stallTimeoutMs, 30000)'),
  queue: queueSchema.optional(),
};

export const ffmpegSourceSchema = z.strictObject({
  type: z.literal('ffmpeg').describe('frames decoded by an ffmpeg child process (cameras, streams, video files)'),
  ...processSourceFields,
  realtime: z.boolean().default(false).describe('read a video file at its native rate, as a camera would deliver it (ffmpeg -re)'),
  loop: z.boolean().default(false).describe('loop a video file forever (ffmpeg -stream_loop -1), e.g. to simulate a camera'),
  inputArgs: z.array(z.string()).default([]).describe('extra ffmpeg arguments before -i, e.g. ["-input_format", "mjpeg"] for a V4L2 camera'),
  ffmpegPath: z.string().optional().describe('ffmpeg executable; default: ffmpeg on PATH'),
});

export const gstreamerSourceSchema = z.strictObject({
  type: z.literal('gstreamer').describe('frames from a gst-launch-1.0 pipeline (Jetson CSI cameras: nvarguscamerasrc)'),
  ...processSourceFields,
  sourceElements: z.string().optional().describe('replaces the source elements (everything before the caps conversion), e.g. "nvarguscamerasrc sensor-id=0"; default: chosen from input'),
  gstLaunchPath: z.string().optional().describe('gst-launch-1.0 executable; default: gst-launch-1.0 on PATH'),
});

export const sourceSchema = z.discriminatedUnion('type', [filesSourceSchema, ffmpegSourceSchema, gstreamerSourceSchema]);

export const thresholdsSchema = z.strictObject({
  image: z.number().optional().describe("image score at or above which a frame is a defect; default: the bundle's"),
  pixel: z.number().optional().describe("map value at or above which a pixel belongs to a defect region; default: the bundle's"),
});

/** An id that becomes one level of an MQTT topic. */
const topicLevel = z.string().regex(/^[^/+#\u0000]+$/, 'a non-empty id without "/", "+" or "#"');

/** One camera of a cell (`sources:`): its own capture, ROI, thresholds and topic path; the model is shared. */
export const cameraSourceSchema = z.strictObject({
  /** Camera id: names the camera in events, metrics and logs (the `camera` of its topic path by default). */
  id: topicLevel,
  topic: z.string().regex(/^[^/+#\u0000]+\/[^/+#\u0000]+\/[^/+#\u0000]+$/, '<line>/<station>/<camera>, three ids without "+" or "#"').optional()
    .describe('topic path <line>/<station>/<camera> of this camera\'s events; default: the MQTT sink\'s line and station, and the id as camera'),
  capture: sourceSchema,
  roi: roiSchema.optional(),
  thresholds: thresholdsSchema.optional().describe('override the bundle\'s calibrated thresholds for this camera'),
});

/** Model swap while running (docs/architecture.md, "Model swap"). */
export const swapSchema = z.strictObject({
  watch: z.string().min(1).optional()
    .describe('folder watched for new bundles: a bundle folder that appears in it (manifest.json written last) is verified and swapped in between two frames'),
  pollS: z.number().min(0.05).max(MAX_INTERVAL_S).default(2).describe('seconds between scans of swap.watch'),
  commands: z.boolean().default(false)
    .describe('take swap commands {"path", "sha256"} on the MQTT topic mmaerec/<line>/<station>/model/command (needs an mqtt sink)'),
  shadowFrames: z.number().int().min(0).max(64).default(0)
    .describe('before a swap, run the candidate on the last N frames of each camera and compare verdicts with the model in service (0: off)'),
  minAgreement: z.number().min(0).max(1).default(1)
    .describe('fraction of shadow frames whose verdict must match the model in service, or the candidate is refused'),
});

export const jsonlSinkSchema = z.strictObject({
  type: z.literal('jsonl').describe('one JSON line per result appended to a file'),
  path: z.string().min(1).describe('the file (relative to the config file); created if missing, appended to otherwise'),
  heatmaps: z.enum(['omit', 'inline']).default('omit').describe('`inline` adds each heatmap as base64 to its line; `omit` records only its path'),
  fsync: z.boolean().default(true).describe('fsync the file when the sink is flushed, so that a result the sink acknowledged survives a power cut (each line is one write either way)'),
  fileMode: modeString('file').optional().describe('mode of the file when the sink creates it, quoted octal (default "0600"); an existing file keeps its mode'),
  dirMode: modeString('dir').optional().describe('mode of the folders the sink creates for the file, quoted octal (default "0700")'),
});

export const stdoutSinkSchema = z.strictObject({
  type: z.literal('stdout').describe('results on standard output (logs go to stderr)'),
  format: z.enum(['json', 'text']).default('json').describe('`json`: one JSON line per result; `text`: one human-readable line'),
  heatmaps: z.enum(['omit', 'inline']).default('omit').describe('`inline` adds each heatmap as base64 to its JSON line'),
});

/** The MQTT sink's own option schema (src/publish/mqtt-config.ts), plus the `type` tag. */
export const mqttSinkSchema = mqttSinkOptionsSchema.extend({ type: z.literal('mqtt') });

export const sinkSchema = z.discriminatedUnion('type', [jsonlSinkSchema, stdoutSinkSchema, mqttSinkSchema]);

export const heatmapPolicySchema = z.strictObject({
  mode: z.enum(['off', 'defects', 'all']).default('off').describe('which frames get a heatmap overlay: none, defects only, or every frame'),
  format: z.enum(['png', 'jpeg']).default('png').describe('image format of the heatmaps'),
  quality: z.number().int().min(1).max(100).default(85).describe('JPEG quality (format jpeg only)'),
  maxEdge: positiveInt.max(16384).default(1024)
    .describe('longest edge of a heatmap in pixels; larger frames are drawn scaled down (aspect kept), so that a heatmap costs bounded time and memory whatever the camera resolution'),
  dir: z.string().min(1).optional()
    .describe('save each heatmap as <dir>/<frame id without extension>.heatmap.png (or .jpg); the record then carries its path. Absent: heatmaps go only to the sinks'),
  fileMode: modeString('file').optional().describe('mode of the saved heatmap files, quoted octal (default "0600"), set whatever the umask'),
  dirMode: modeString('dir').optional().describe('mode of heatmap.dir when the run creates it, quoted octal (default "0700")'),
});

/**
 * The live station page (src/observe/station-page): opt-in, no port is opened without it. On a loopback host
 * it is open to this machine only; any other host requires a bearer token, read from the environment variable
 * `tokenEnv` (never written in the config file).
 */
export const pageSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535).describe('port of the live station page (0: any free port, printed in the log)'),
    host: z.string().min(1).default('127.0.0.1').describe('address the page binds; other than loopback (127.0.0.1, ::1) it needs tokenEnv'),
    tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'is not an environment variable name: give e.g. PAGE_TOKEN' }).optional()
      .describe('environment variable holding the bearer token the page requires (open it as /?token=…, or send Authorization: Bearer …)'),
    frames: positiveInt.max(128).default(16).describe('frames whose images (input, reconstruction, heatmap) the page keeps for thumbnails and the detail view'),
    history: positiveInt.min(10).max(10_000).default(600).describe('verdicts the page keeps for its stream and score chart'),
  })
  .refine((p) => isLoopback(p.host) || p.tokenEnv !== undefined, {
    path: ['host'],
    error: 'is reachable from other machines: set page.tokenEnv to the name of an environment variable holding a bearer token, or bind 127.0.0.1',
  });

export const runConfigSchema = z.strictObject({
  model: z.string().min(1).describe('model bundle directory (relative to the config file)'),
  backend: z
    .strictObject({
      name: z.enum(['auto', 'onnxruntime', 'tensorrt']).default('auto')
        .describe('inference back end; `auto` tries TensorRT (a built engine.plan), then ONNX Runtime, and logs why a better one was skipped'),
      threads: positiveInt.max(MAX_THREADS).optional()
        .describe("CPU threads per session (ONNX Runtime intra-op); default: the runtime's choice. `run` refuses threads × sessions above 4 × the machine's CPUs"),
      maxBatch: positiveInt.max(64).optional()
        .describe('frames of different cameras inferred in one run (ONNX Runtime batch dimension; TensorRT up to the batch its engine was built for, `build-engine --max-batch`); default: the number of sources'),
      sessions: positiveInt.max(16).default(1)
        .describe('model sessions inferring frames side by side (ONNX Runtime); on 2 cores, 2 with threads 1 gives the most frames/s, 1 with threads 2 the lowest latency'),
      device: z.enum(['cpu', 'cuda']).optional().describe("`cuda` requires the GPU, `cpu` forbids it; default: the GPU when one is usable, else the CPU"),
      precision: z.enum(['fp32', 'int8']).default('fp32')
        .describe("int8: the bundle's INT8 model (mmaerec-edge quantize) on ONNX Runtime CPU; fp32: model.onnx. TensorRT's precision is its engine's (build-engine)"),
      requireNativeScoring: z.boolean().default(true)
        .describe('refuse to start (E_NATIVE) when the native scoring core did not load, instead of scoring with the TypeScript fallback (≈ 5–50× slower)'),
    })
    .default({ name: 'auto', sessions: 1, precision: 'fp32', requireNativeScoring: true }),
  source: sourceSchema.optional().describe('where frames come from, for one camera: one of the `type`s below (several cameras: `sources`; exactly one of the two)'),
  sources: z.array(cameraSourceSchema).min(1).max(16).optional()
    .describe('several cameras served by one model back end (a cell); each with its id, capture, ROI, thresholds and topic path'),
  roi: roiSchema.optional(),
  thresholds: thresholdsSchema.default({}),
  sinks: z.array(sinkSchema).min(1).describe('where results go: one or more of `{type: jsonl}`, `{type: stdout}`, `{type: mqtt}` (their settings: the tables below)'),
  heatmap: heatmapPolicySchema.default({ mode: 'off', format: 'png', quality: 85, maxEdge: 1024 }),
  pipeline: z
    .strictObject({
      maxInFlight: positiveInt.max(64).optional().describe('frames inspected at once; default backend.sessions + 2, so that decoding and scoring overlap inference'),
      onBundleError: z.enum(['exit', 'report']).default('report')
        .describe('bundle missing or tampered with at start: `exit` refuses to start; `report` gives every frame an E_BUNDLE record and retries'),
      bundleRetryS: z.number().positive().max(MAX_INTERVAL_S).default(10).describe('onBundleError report: seconds between attempts to load the bundle again'),
    })
    .default({ onBundleError: 'report', bundleRetryS: 10 }),
  metrics: z
    .strictObject({
      port: z.number().int().min(0).max(65535).optional().describe('port of the Prometheus endpoint (/metrics); absent: no endpoint'),
      host: z.string().default('127.0.0.1').describe('address the metrics endpoint listens on (0.0.0.0: every interface)'),
      summaryIntervalS: z.number().nonnegative().max(MAX_INTERVAL_S).default(10).describe('seconds between one-line summaries in the log (0: off)'),
    })
    .default({ host: '127.0.0.1', summaryIntervalS: 10 }),
  page: pageSchema.optional(),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('least severe log level written (pino levels)'),
      file: z.string().optional().describe('log file (JSON lines, appended); default: stderr'),
    })
    .default({ level: 'info' }),
  swap: swapSchema.optional(),
}).superRefine((c, ctx) => {
  if ((c.source === undefined) === (c.sources === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['source'], message: c.source ? 'and sources are both given: keep source for one camera or sources for several, not both' : 'is missing: give source (one camera) or sources (several)' });
  }
  if (c.sources && (c.roi || Object.keys(c.thresholds).length)) {
    ctx.addIssue({ code: 'custom', path: [c.roi ? 'roi' : 'thresholds'], message: 'applies to source only: with sources, give roi and thresholds per camera (sources[i].roi, sources[i].thresholds)' });
  }
  if (c.swap?.commands && !c.sinks.some((s) => s.type === 'mqtt')) {
    ctx.addIssue({ code: 'custom', path: ['swap', 'commands'], message: 'needs an mqtt sink (commands arrive on its broker): add one, or set swap.commands: false' });
  }
  const seen = new Set<string>();
  c.sources?.forEach((s, i) => {
    if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `"${s.id}" is used twice: give each camera its own id` });
    seen.add(s.id);
  });
});

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type CameraSourceConfig = z.infer<typeof cameraSourceSchema>;
export type SwapConfig = z.infer<typeof swapSchema>;
export type SinkConfig = z.infer<typeof sinkSchema>;
export type HeatmapPolicy = z.infer<typeof heatmapPolicySchema>;
export type PageConfig = z.infer<typeof pageSchema>;
