import { z } from 'zod';
import type { ErrorRecord, InspectionResult, PipelineRecord } from '../decide/result.js';
import { monotonicUlid, ULID_PATTERN, type UlidFactory } from './ulid.js';

/**
 * The events that leave the device, as zod schemas. They are the wire contract with MES, dashboards and PLC
 * gateways: every event names its schema and version (`"schema": "mmaerec.inspection/1"`), so a subscriber can
 * reject what it does not understand, and every event carries a unique, time-sortable `id` (a ULID) by which
 * subscribers deduplicate (delivery is at-least-once). Times are ISO 8601 UTC strings; durations are in ms.
 * A new field that old subscribers may ignore keeps the version; a renamed, removed or re-typed field bumps it.
 */

export const INSPECTION_SCHEMA = 'mmaerec.inspection/1';
export const ERROR_SCHEMA = 'mmaerec.error/1';
export const STATUS_SCHEMA = 'mmaerec.status/1';
export const MODEL_SCHEMA = 'mmaerec.model/1';

const eventId = z.string().regex(ULID_PATTERN, 'a ULID (26 Crockford base-32 characters)')
  .describe('Unique, lexicographically time-sortable event id (ULID); deduplicate by it.');
const isoTime = z.iso.datetime({ offset: false }).describe('ISO 8601 UTC time');
const scoringEngineSchema = z.enum(['native-cpu', 'cuda', 'typescript'])
  .describe('What computed the fused score: the native core on the CPU or on a CUDA device, or the TypeScript fallback (the native addon did not load: ≈ 5–50× slower; fix: npm run build:native). Absent from devices older than this field.');
const idPart = z.string().regex(/^[^/+#\u0000]+$/, 'a non-empty id without "/", "+" or "#"').describe('An id configured on the device; never contains "/", "+" or "#".');

const source = {
  line: idPart.describe('Production line id'),
  station: idPart.describe('Inspection station id'),
  camera: idPart.describe('Camera id'),
};

export const regionSchema = z.object({
  x: z.number().describe('Left edge, original-frame pixels'),
  y: z.number().describe('Top edge, original-frame pixels'),
  width: z.number().nonnegative(),
  height: z.number().nonnegative(),
  area: z.number().nonnegative().describe('Pixels at or above the pixel threshold'),
  maxScore: z.number(),
  meanScore: z.number(),
});

export const modelProvenanceSchema = z.object({
  bundleName: z.string(),
  bundleSha256: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of the bundle manifest.json'),
  backend: z.string().describe('Inference back end that produced the result'),
  scoringEngine: scoringEngineSchema.optional(),
});

export const latencySchema = z.object({
  decodeMs: z.number().nonnegative(),
  preprocessMs: z.number().nonnegative(),
  inferMs: z.number().nonnegative(),
  scoreMs: z.number().nonnegative(),
  totalMs: z.number().nonnegative(),
});

export const heatmapRefSchema = z.object({
  topic: z.string().describe('Topic on which the image was published (binary payload)'),
  format: z.enum(['png', 'jpeg']),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bytes: z.number().int().positive(),
});

/** Which frame an inspection or error event is about, and when it was captured and finished. */
const frame = {
  frameId: z.string(),
  origin: z.string().optional(),
  capturedAt: isoTime,
  finishedAt: isoTime,
};

export const inspectionEventSchema = z.object({
  schema: z.literal(INSPECTION_SCHEMA),
  id: eventId,
  ...source,
  ...frame,
  verdict: z.enum(['ok', 'defect']),
  score: z.number(),
  imageThreshold: z.number(),
  pixelThreshold: z.number(),
  regions: z.array(regionSchema),
  latency: latencySchema,
  model: modelProvenanceSchema,
  heatmap: heatmapRefSchema.optional(),
}).describe('The result of inspecting one frame.');

export const errorEventSchema = z.object({
  schema: z.literal(ERROR_SCHEMA),
  id: eventId,
  ...source,
  ...frame,
  code: z.string().describe('Stable error code, e.g. E_INPUT'),
  message: z.string(),
  model: modelProvenanceSchema.optional(),
}).describe('A frame that could not be inspected.');

export const statusEventSchema = z.object({
  schema: z.literal(STATUS_SCHEMA),
  id: eventId,
  line: source.line,
  station: source.station,
  camera: source.camera,
  state: z.enum(['online', 'offline']),
  reason: z.enum(['birth', 'heartbeat', 'shutdown', 'connection-lost'])
    .describe('birth: retained on connect; connection-lost: the broker published the last will'),
  at: isoTime,
  clientId: z.string(),
  sdkVersion: z.string(),
  uptimeS: z.number().nonnegative().optional(),
  spool: z.object({
    entries: z.number().int().nonnegative().describe('Events waiting for a broker acknowledgement'),
    bytes: z.number().int().nonnegative(),
    dropped: z.number().int().nonnegative().describe('Events dropped by the drop-oldest policy since start'),
  }).optional(),
  delivered: z.number().int().nonnegative().optional().describe('Events acknowledged by the broker since start'),
  scoringEngine: scoringEngineSchema.optional(),
}).describe('Device status: retained birth/offline (last will) and periodic heartbeats.');

const bundleRef = z.object({
  bundleName: z.string(),
  bundleSha256: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of the bundle manifest.json'),
});

export const modelEventSchema = z.object({
  schema: z.literal(MODEL_SCHEMA),
  id: eventId,
  line: source.line,
  station: source.station,
  at: isoTime,
  outcome: z.enum(['swapped', 'refused']).describe('swapped: the candidate serves every frame from now on; refused: the model in service keeps running'),
  trigger: z.enum(['watch', 'command']).describe('watch: a bundle folder appeared in swap.watch; command: a command on the model/command topic'),
  candidate: z.object({
    path: z.string().describe('Bundle folder on the device'),
    bundleName: z.string().optional(),
    bundleSha256: z.string().optional().describe('sha256 of its manifest.json, once read'),
  }),
  inService: bundleRef.optional().describe('The bundle that infers the frames after this event (absent: none loaded)'),
  reason: z.string().optional().describe('Why the candidate was refused: one line naming the problem and the fix'),
  shadow: z.object({
    frames: z.number().int().nonnegative().describe('Recent frames inspected by both models'),
    agreement: z.number().min(0).max(1).describe('Fraction of them with the same verdict'),
  }).optional(),
}).describe('A model swap while running: a candidate bundle swapped in between two frames, or refused.');

export const eventSchema = z.discriminatedUnion('schema', [inspectionEventSchema, errorEventSchema, statusEventSchema, modelEventSchema]);

export type InspectionEvent = z.infer<typeof inspectionEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
export type StatusEvent = z.infer<typeof statusEventSchema>;
export type ModelEvent = z.infer<typeof modelEventSchema>;
/** A model event before a sink stamps it with its id, line and station. */
export type ModelEventBody = Omit<ModelEvent, 'schema' | 'id' | 'line' | 'station'>;
export type MmaerecEvent = z.infer<typeof eventSchema>;

/** Where the event comes from; the ids also form the default topics. */
export interface EventContext {
  line: string;
  station: string;
  camera: string;
  /** Id generator; defaults to a process-wide monotonic ULID factory. */
  newId?: UlidFactory;
  /** Topic for this event's heatmap image, given its id; without it no heatmap reference is added. */
  heatmapTopic?: (eventId: string) => string;
}

const processIds = monotonicUlid();

/** A fresh event id from the process-wide monotonic generator. */
export function newEventId(now?: number): string {
  return processIds(now);
}

/** Maps a pipeline record (src/decide/result.ts) to its wire event. Pure apart from drawing a new id. */
export function toEvent(record: InspectionResult, context: EventContext): InspectionEvent;
export function toEvent(record: ErrorRecord, context: EventContext): ErrorEvent;
export function toEvent(record: PipelineRecord, context: EventContext): InspectionEvent | ErrorEvent;
export function toEvent(record: PipelineRecord, context: EventContext): InspectionEvent | ErrorEvent {
  const id = (context.newId ?? processIds)();
  const common = {
    id,
    // A cell's records name their camera (and its topic path); the context fills what they leave out.
    line: record.camera?.line ?? context.line,
    station: record.camera?.station ?? context.station,
    camera: record.camera?.camera ?? context.camera,
    frameId: record.frameId,
    ...(record.origin !== undefined ? { origin: record.origin } : {}),
    capturedAt: isoOf(record.capturedAt),
    finishedAt: isoOf(record.finishedAt),
  };
  if (record.kind === 'error') {
    return {
      schema: ERROR_SCHEMA,
      ...common,
      code: record.code,
      message: record.message,
      ...(record.model ? { model: { ...record.model } } : {}),
    };
  }
  const event: InspectionEvent = {
    schema: INSPECTION_SCHEMA,
    ...common,
    verdict: record.verdict,
    score: record.score,
    imageThreshold: record.imageThreshold,
    pixelThreshold: record.pixelThreshold,
    regions: record.regions.map((r) => ({ ...r })),
    latency: { ...record.latency },
    model: { ...record.model },
  };
  if (record.heatmap && context.heatmapTopic) {
    event.heatmap = {
      topic: context.heatmapTopic(id),
      format: record.heatmap.format,
      width: record.heatmap.width,
      height: record.heatmap.height,
      bytes: record.heatmap.data.byteLength,
    };
  }
  return event;
}

/** The JSON Schemas (draft 2020-12) of every event, keyed by the `schema` value they describe. */
export function eventJsonSchemas(): Record<string, unknown> {
  return {
    [INSPECTION_SCHEMA]: withId(z.toJSONSchema(inspectionEventSchema), INSPECTION_SCHEMA),
    [ERROR_SCHEMA]: withId(z.toJSONSchema(errorEventSchema), ERROR_SCHEMA),
    [STATUS_SCHEMA]: withId(z.toJSONSchema(statusEventSchema), STATUS_SCHEMA),
    [MODEL_SCHEMA]: withId(z.toJSONSchema(modelEventSchema), MODEL_SCHEMA),
  };
}

function withId(schema: Record<string, unknown>, name: string): Record<string, unknown> {
  return { $id: `urn:${name.replace('/', ':v')}`, title: name, ...schema };
}

function isoOf(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Expected a time in ms since the epoch but received ${ms}`);
  return new Date(ms).toISOString();
}
