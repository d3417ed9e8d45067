import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MmaerecError } from '../errors.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { DEFAULT_SPOOL_MAX_BYTES } from './spool/store.js';
import { modeProblem } from '../util/files.js';
import type { TopicLayout } from './topics.js';

/** The broker reconnect policy's defaults (src/util/backoff.ts): 0.25–0.5 s at first, at most 30 s. */
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2 };

/**
 * The MQTT sink's options as a zod schema: the same schema checks the SDK call, a YAML config and CLI flags,
 * and every problem becomes ONE line naming the field and the fix (`mqtt.qos 0 is not supported: use 1 …`).
 * Unknown keys are errors (a misspelled `pasword` must not silently mean "no password").
 */
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v) : v === undefined ? 'missing' : typeof v === 'object' ? typeof v : String(v));
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];

/**
 * Upper bounds (issue 15, item 4): timers stop at setTimeout's 2^31 − 1 ms (beyond it Node fires at once); MQTT
 * limits its keep-alive to 65535 s, its packet ids (messages in flight) to 65535 and a packet to 256 MiB.
 */
export const MAX_TIMER_MS = 2_147_483_647;
export const MQTT_MAX_KEEPALIVE_S = 65_535;
export const MQTT_MAX_INFLIGHT = 65_535;
export const MQTT_MAX_PACKET_BYTES = 268_435_455;
/** A spool larger than 1 TiB is a typo on a line-side controller. */
export const MAX_SPOOL_BYTES = 2 ** 40;
export const MAX_SEGMENT_BYTES = 2 ** 30;

const positiveInt = (what: string, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: (i) => `${show(i.input)} is not a number: give ${what}` }).int({ error: (i) => `${show(i.input)} is not whole: give ${what}` })
    .positive({ error: (i) => `${show(i.input)} is too small: give ${what}` })
    .max(max, { error: (i) => `${show(i.input)} is above ${max}: give ${what}, at most ${max}` });
const idString = (what: string) => z.string({ error: (i) => `is ${show(i.input)}: give the ${what} as a string` }).min(1, { error: `is empty: give the ${what}` })
  // The ids form the topics: a wildcard or a level separator would publish to (or subscribe) other topics.
  .regex(/^[^/+#\u0000]+$/, { error: (i) => `${show(i.input)} cannot be part of an MQTT topic: use a non-empty id without "/", "+" or "#"` });

const brokerUrl = z.string({ error: (i) => `is ${show(i.input)}: give the broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://broker:8883` })
  .superRefine((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || !BROKER_PROTOCOLS.includes(url.protocol) || !url.hostname) {
      ctx.addIssue({ code: 'custom', message: `${show(redactUrl(value))} is not a broker URL: use mqtt://host:1883 (plain) or mqtts://host:8883 (TLS)` });
    }
  });

const tlsSchema = z.strictObject({
  ca: z.string().min(1).optional().describe('PEM file of the CA that signed the broker certificate'),
  cert: z.string().min(1).optional().describe('PEM client certificate (mutual TLS)'),
  key: z.string().min(1).optional().describe('PEM private key of the client certificate'),
  rejectUnauthorized: z.boolean().default(true).describe('refuse a broker whose certificate does not verify against tls.ca (or the system CAs); false only for tests'),
  servername: z.string().optional().describe('TLS SNI / certificate name when it differs from the URL host'),
});

/** A file or folder mode as a quoted octal string ("0600"); see modeProblem in src/util/files.ts. */
export const modeString = (kind: 'file' | 'dir') =>
  z.string({ error: `is not a string: give the mode as quoted octal digits, e.g. "${kind === 'file' ? '0600' : '0700'}"` })
    .superRefine((v, ctx) => {
      const problem = modeProblem(v, kind);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

const spoolSchema = z.strictObject({
  kind: z.enum(['disk', 'memory'], { error: (i) => `${show(i.input)} is not a spool kind: use "disk" (default) or "memory"` }).default('disk')
    .describe('where events wait until the broker acknowledges them: `disk` survives restarts and power cuts, `memory` loses them on restart'),
  dir: z.string().min(1).optional().describe('kind disk (required then): folder on persistent storage for the spool segment files; one sink per folder (it is locked)'),
  maxBytes: positiveInt('a positive number of bytes, e.g. 268435456 (256 MiB)', MAX_SPOOL_BYTES).default(DEFAULT_SPOOL_MAX_BYTES)
    .describe('most bytes of unacknowledged events kept (events and heatmap images)'),
  whenFull: z.enum(['reject-new', 'drop-oldest'], { error: (i) => `${show(i.input)} is not a policy: use "reject-new" (default) or "drop-oldest"` }).default('reject-new')
    .describe('when maxBytes is reached: `reject-new` refuses new events (E_SPOOL; nothing accepted is lost), `drop-oldest` discards the oldest to make room'),
  fsync: z.enum(['always', 'interval', 'never'], { error: (i) => `${show(i.input)} is not an fsync policy: use "always", "interval" (default) or "never"` }).default('interval')
    .describe('`always`: fdatasync before an event is accepted (survives power loss); `interval`: accepted once written (survives a crash), synced every fsyncIntervalMs; `never`: the OS decides (tests, tmpfs)'),
  fsyncIntervalMs: positiveInt('a positive number of milliseconds', MAX_TIMER_MS).default(200)
    .describe('fsync interval: milliseconds between syncs of the spool file, bounding what a power cut can take'),
  segmentBytes: positiveInt('a number of bytes, at least 4096', MAX_SEGMENT_BYTES).min(4096, { error: 'is below 4096: give at least 4096 bytes' }).default(4 * 1024 * 1024)
    .describe('size at which the spool starts a new segment file; a segment is deleted once all its events are acknowledged'),
  fileMode: modeString('file').optional().describe('mode of the segment files and the lock, quoted octal (default "0600"), set whatever the umask'),
  dirMode: modeString('dir').optional().describe('mode of spool.dir when the sink creates it, quoted octal (default "0700")'),
});

export const mqttSinkOptionsSchema = z.strictObject({
  url: brokerUrl.describe('broker URL: mqtt://host:1883, or mqtts://host:8883 with TLS (ws/wss also work)'),
  line: idString('production line id').describe('production line id: the {line} of the topics, and in every event'),
  station: idString('station id').describe('station id: the {station} of the topics, and in every event'),
  camera: idString('camera id').describe('camera id: the {camera} of the topics, and in every event'),
  clientId: z.string().min(1).optional().describe('MQTT client id, unique per broker; default: mmaerec-<line>-<station>-<camera>'),
  protocol: z.enum(['5', '3.1.1'], { error: (i) => `${show(i.input)} is not a supported MQTT version: use "5" (default) or "3.1.1"` }).default('5')
    .describe('MQTT protocol version; 3.1.1 for brokers without MQTT 5'),
  qos: z.literal([1, 2], { error: (i) => `${show(i.input)} is not supported: use 1 (default) or 2 (QoS 0 is never acknowledged, so the spool could not know that an event arrived)` }).default(1)
    .describe('QoS of the published events: 1 (at least once) or 2 (exactly once); 0 is refused'),
  username: z.string().optional().describe('user name for the broker'),
  password: z.string().optional().describe('password for the broker (prefer passwordEnv, which keeps it out of the file)'),
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'is not an environment variable name: give e.g. MQTT_PASSWORD' }).optional()
    .describe('Name of an environment variable that holds the password (keeps the secret out of config files)'),
  tls: tlsSchema.optional(),
  publish: z.enum(['defects', 'all'], { error: (i) => `${show(i.input)} is not a choice: use "defects" (defect results and errors, default) or "all"` }).default('defects')
    .describe('which results are published: `defects` (defect results and error records) or `all` (ok results too)'),
  topics: z.strictObject({
    defect: z.string().optional().describe('topic of defect results; templates take {line}, {station}, {camera}; default mmaerec/{line}/{station}/defect'),
    inspection: z.string().optional().describe('topic of ok results (publish: all); default mmaerec/{line}/{station}/inspection'),
    error: z.string().optional().describe('topic of error records (a frame that could not be inspected); default mmaerec/{line}/{station}/error'),
    status: z.string().optional().describe('topic of the device status: retained birth and offline (last will) messages, and heartbeats; default mmaerec/{line}/{station}/status'),
    heatmap: z.string().optional().describe('topic of the heatmap images, must contain {eventId}; default mmaerec/{line}/{station}/heatmap/{eventId}'),
    model: z.string().optional().describe('model swap outcomes (mmaerec.model/1); default mmaerec/{line}/{station}/model'),
    command: z.string().optional().describe('swap commands taken when swap.commands is on; default mmaerec/{line}/{station}/model/command'),
  }).optional(),
  heartbeatMs: z.number().int().nonnegative({ error: 'is negative: give milliseconds between heartbeats, or 0 to disable them' })
    .max(MAX_TIMER_MS, { error: (i) => `${show(i.input)} is above ${MAX_TIMER_MS}: give milliseconds between heartbeats (e.g. 30000), or 0 to disable them` }).default(30_000)
    .describe('milliseconds between status heartbeats (counts, scoring engine, spool depth); 0: none'),
  keepaliveS: positiveInt('seconds, e.g. 30', MQTT_MAX_KEEPALIVE_S).default(30).describe('MQTT keep-alive in seconds: the broker drops the connection after 1.5 × this without a packet'),
  connectTimeoutMs: positiveInt('milliseconds, e.g. 10000', MAX_TIMER_MS).default(10_000).describe('milliseconds a connection attempt may take before it is retried'),
  heatmap: z.strictObject({
    enabled: z.boolean().default(true).describe('publish heatmap images (on the heatmap topic) for results that have one'),
    maxBytes: positiveInt('a number of bytes, e.g. 262144', MQTT_MAX_PACKET_BYTES).default(256 * 1024).describe('larger heatmap images are not published (the event still is)'),
  }).default({ enabled: true, maxBytes: 256 * 1024 }),
  spool: spoolSchema.default(spoolSchema.parse({})),
  reconnect: z.strictObject({
    initialMs: positiveInt('milliseconds', MAX_TIMER_MS).default(DEFAULT_BACKOFF.initialMs)
      .describe('milliseconds before the first reconnect; each later wait grows by factor, with jitter so that a plant\'s devices do not reconnect at the same instant'),
    maxMs: positiveInt('milliseconds', MAX_TIMER_MS).default(DEFAULT_BACKOFF.maxMs).describe('longest wait between reconnects, in milliseconds'),
    factor: z.number().min(1, { error: 'is below 1: give a growth factor ≥ 1, e.g. 2' })
      .max(100, { error: (i) => `${show(i.input)} is above 100: give a growth factor from 1 to 100, e.g. 2` }).default(DEFAULT_BACKOFF.factor)
      .describe('growth of the wait after each failed reconnect'),
  }).default(DEFAULT_BACKOFF),
  maxInflight: positiveInt('a number of messages, e.g. 256', MQTT_MAX_INFLIGHT).default(256).describe('messages handed to the broker and not yet acknowledged, at most'),
  closeTimeoutMs: positiveInt('milliseconds', MAX_TIMER_MS).default(2000)
    .describe('at shutdown, milliseconds to wait for the broker to acknowledge what is in flight; the rest stays in the spool for the next start'),
});

export type MqttSinkConfig = z.input<typeof mqttSinkOptionsSchema>;
export type ResolvedMqttConfig = z.output<typeof mqttSinkOptionsSchema> & { topics?: Partial<TopicLayout> };

/** TLS material read from the configured files (contents, never logged). */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** Validates options; throws E_CONFIG with one line naming the field (prefixed `field`) and the fix. */
export function parseMqttConfig(input: unknown, field = 'mqtt'): ResolvedMqttConfig {
  const parsed = mqttSinkOptionsSchema.safeParse(input);
  if (!parsed.success) throw new MmaerecError('E_CONFIG', formatIssue(parsed.error.issues[0]!, field));
  const c = parsed.data;
  const secure = /^(mqtts|ssl|tls|wss):/.test(c.url);
  if (c.tls && !secure) {
    throw new MmaerecError('E_CONFIG', `${field}.tls is set but ${field}.url ${show(redactUrl(c.url))} is plain TCP: use mqtts://host:8883 (or remove ${field}.tls)`);
  }
  if (c.tls && (c.tls.cert === undefined) !== (c.tls.key === undefined)) {
    throw new MmaerecError('E_CONFIG', `${field}.tls.${c.tls.cert ? 'key' : 'cert'} is missing: a client certificate needs both tls.cert and tls.key`);
  }
  if (c.spool.kind === 'disk' && !c.spool.dir) {
    throw new MmaerecError('E_CONFIG', `${field}.spool.dir is missing: give a directory on persistent storage for unacknowledged events (or spool.kind "memory" to accept losing them on restart)`);
  }
  if (c.passwordEnv !== undefined) {
    if (c.password !== undefined) throw new MmaerecError('E_CONFIG', `${field}.password and ${field}.passwordEnv are both set: keep one`);
    const secret = process.env[c.passwordEnv];
    if (secret === undefined) {
      throw new MmaerecError('E_CONFIG', `${field}.passwordEnv names ${c.passwordEnv}, which is not set in the environment: export it (e.g. in the service unit) or remove passwordEnv`);
    }
    c.password = secret;
  }
  if (c.password !== undefined && c.username === undefined) {
    throw new MmaerecError('E_CONFIG', `${field}.password is set without ${field}.username: give both`);
  }
  if (c.reconnect.maxMs < c.reconnect.initialMs) {
    throw new MmaerecError('E_CONFIG', `${field}.reconnect.maxMs ${c.reconnect.maxMs} is below reconnect.initialMs ${c.reconnect.initialMs}: make maxMs the larger`);
  }
  return c;
}

/** Reads the TLS files; a missing or non-PEM file is an E_CONFIG naming the field. */
export function loadTls(tls: ResolvedMqttConfig['tls'], field = 'mqtt'): TlsMaterial | undefined {
  if (!tls) return undefined;
  const read = (name: 'ca' | 'cert' | 'key', what: string): Buffer | undefined => {
    const path = tls[name];
    if (path === undefined) return undefined;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw new MmaerecError('E_CONFIG', `${field}.tls.${name}: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? 'error'}): give the path of ${what}`);
    }
    if (!data.includes('-----BEGIN')) {
      throw new MmaerecError('E_CONFIG', `${field}.tls.${name}: "${path}" is not a PEM file: give the path of ${what} in PEM format`);
    }
    return data;
  };
  return {
    ca: read('ca', "the broker's CA certificate (PEM)"),
    cert: read('cert', 'the client certificate (PEM)'),
    key: read('key', 'the client private key (PEM)'),
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/** A copy safe to log: password and URL credentials replaced, TLS given as paths only. */
export function redactConfig(c: Partial<ResolvedMqttConfig> | MqttSinkConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  if (typeof out.url === 'string') out.url = redactUrl(out.url);
  if (out.password !== undefined) out.password = '***';
  return out;
}

/** The URL with any `user:password@` replaced, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

function formatIssue(issue: z.core.$ZodIssue, field: string): string {
  const path = [field, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return `${path}: unknown option "${key}": remove it or fix its spelling${suggest(key)}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${path} is missing: add it (see docs/mqtt.md)`;
  return `${path} ${issue.message}`;
}

const KNOWN = ['url', 'line', 'station', 'camera', 'clientId', 'protocol', 'qos', 'username', 'password', 'passwordEnv', 'tls', 'publish', 'topics', 'heartbeatMs', 'keepaliveS', 'connectTimeoutMs', 'heatmap', 'spool', 'reconnect', 'maxInflight', 'closeTimeoutMs', 'ca', 'cert', 'key', 'rejectUnauthorized', 'servername', 'kind', 'dir', 'maxBytes', 'whenFull', 'fsync', 'fsyncIntervalMs', 'segmentBytes', 'fileMode', 'dirMode', 'enabled', 'initialMs', 'factor', 'maxMs', 'defect', 'inspection', 'error', 'status', 'model', 'command'];

function suggest(key: string): string {
  let best = '';
  let bestDistance = 3;
  for (const k of KNOWN) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
