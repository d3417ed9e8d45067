import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type { CameraIds, PipelineRecord } from '../decide/result.js';
import { MmaerecError } from '../errors.js';
import { backoffDelay } from '../util/backoff.js';
import { parseModes } from '../util/files.js';
import { closedWhilePublishing, connectError, publishRefused } from './broker-errors.js';
import { MODEL_SCHEMA, newEventId, STATUS_SCHEMA, toEvent, type ModelEvent, type ModelEventBody, type StatusEvent } from './events.js';
import { scoringEngine } from '../native.js';
import { defaultLogger, type Logger } from './logger.js';
import { loadTls, parseMqttConfig, redactConfig, redactUrl, type MqttSinkConfig, type ResolvedMqttConfig, type TlsMaterial } from './mqtt-config.js';
import { decodeOutbox, encodeOutbox, type OutboxMessage } from './outbox-entry.js';
import type { Sink } from './sink.js';
import { createSpool, type SpoolStore } from './spool/store.js';
import { resolveTopics, type Topics } from './topics.js';

/** A connection that lasted this long counts as healthy: the reconnect backoff starts again from its minimum. */
const STABLE_CONNECTION_MS = 10_000;
/** At close, how long events already handed to the broker may take to be acknowledged (at most closeTimeoutMs). */
const ACK_GRACE_MS = 1000;
const SDK_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Options of {@link MqttSink.create}: the validated config (see mqtt-config.ts) plus code-only hooks. */
export type MqttSinkOptions = MqttSinkConfig & {
  /** pino-compatible logger; default: pino on stderr. Secrets are never passed to it. */
  logger?: Logger;
  /** Use this spool instead of opening the one in `spool` (tests, custom stores). The sink closes it. */
  spoolStore?: SpoolStore;
};

/** A snapshot of the sink for health checks and tests. */
export interface MqttSinkStatus {
  connected: boolean;
  /** Messages in the spool waiting for a broker acknowledgement (events and heatmap images). */
  spooled: number;
  spooledBytes: number;
  /** Messages acknowledged by the broker since start. */
  delivered: number;
  dropped: number;
  heatmapsSkipped: number;
  lastError?: MmaerecError;
}

/**
 * Publishes pipeline records as MQTT events with zero-loss store-and-forward.
 *
 * `write()` resolves once the event is in the spool (on disk by default); a publisher walks the spool oldest
 * first and deletes an entry only when the broker acknowledges it (PUBACK for QoS 1). On a lost connection
 * the unacknowledged entries stay, the sink reconnects with jittered exponential backoff, and the walk starts
 * again from the oldest entry — so after a broker outage or a crash of this process everything accepted is
 * delivered, at least once. Subscribers deduplicate by the event `id`.
 *
 * Each connection is a fresh MQTT.js client with its own reconnect disabled: the spool, not MQTT.js's
 * in-memory outgoing store, is the single record of what is still owed to the broker.
 *
 * Events: 'connect', 'offline', 'broker-error' (an E_BROKER MmaerecError; also logged).
 */
export class MqttSink extends EventEmitter implements Sink {
  readonly name = 'mqtt';
  readonly topics: Topics;
  private readonly config: ResolvedMqttConfig;
  private readonly tls?: TlsMaterial;
  private readonly spool: SpoolStore;
  private readonly logger: Logger;
  private readonly clientId: string;
  private readonly connectClient: (url: string, options: IClientOptions) => MqttClient;
  private readonly startedAt = Date.now();
  private client?: MqttClient;
  /** Bumped per connection attempt and at close; callbacks of older connections are ignored. */
  private generation = 0;
  private connected = false;
  private closing = false;
  private attempt = 0;
  private connectedAt = 0;
  private errorOnThisConnection = false;
  private reconnectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  /** Highest spool key handed to the current connection. */
  private cursor = 0;
  private readonly inflight = new Set<number>();
  private pumping = false;
  /** False once close() has stopped handing spooled entries to the broker. */
  private handingOut = true;
  /** Set by close() after its drain: no more connection attempts. */
  private ending = false;
  private pumpAgain = false;
  private delivered = 0;
  private heatmapsSkipped = 0;
  private lastError?: MmaerecError;
  private lastErrorLoggedAt = 0;
  private waiters: (() => void)[] = [];
  private readonly cameraTopics = new Map<string, Topics>();
  private commandHandler: ((payload: Buffer) => void) | undefined;

  private constructor(config: ResolvedMqttConfig, spool: SpoolStore, logger: Logger, connectClient: MqttSink['connectClient'], tls?: TlsMaterial) {
    super();
    this.connectClient = connectClient;
    this.config = config;
    this.spool = spool;
    this.logger = logger;
    this.tls = tls;
    this.topics = resolveTopics({ line: config.line, station: config.station, camera: config.camera }, config.topics ?? {});
    this.clientId = config.clientId ?? `mmaerec-${config.line}-${config.station}-${config.camera}`;
  }

  /**
   * Validates the options (E_CONFIG, one line naming the field), reads the TLS files, opens (and recovers) the
   * spool, and starts connecting in the background: it does not wait for the broker, so a station starts
   * inspecting while the broker is still down.
   */
  static async create(options: MqttSinkOptions): Promise<MqttSink> {
    if (options === null || typeof options !== 'object') throw new TypeError('Expected an options object for MqttSink.create');
    const { logger: givenLogger, spoolStore, ...rest } = options;
    const plain = spoolStore && !rest.spool ? { ...rest, spool: { kind: 'memory' as const } } : rest;
    const config = parseMqttConfig(plain);
    const logger = givenLogger ?? defaultLogger();
    const tls = loadTls(config.tls);
    resolveTopics({ line: config.line, station: config.station, camera: config.camera }, config.topics ?? {});
    const spool = spoolStore ?? (config.spool.kind === 'disk'
      ? await createSpool({
        kind: 'disk', dir: config.spool.dir!, maxBytes: config.spool.maxBytes, whenFull: config.spool.whenFull, fsync: config.spool.fsync,
        fsyncIntervalMs: config.spool.fsyncIntervalMs, segmentBytes: config.spool.segmentBytes, logger,
        ...modeOptions(parseModes(config.spool, 'mqtt.spool')),
      })
      : await createSpool({ kind: 'memory', maxBytes: config.spool.maxBytes, whenFull: config.spool.whenFull, logger }));
    // MQTT.js is loaded here, not at import time, so `import 'mmaerec-edge'` stays light for non-MQTT users.
    const { connect } = await import('mqtt');
    const sink = new MqttSink(config, spool, logger, connect, tls);
    logger.info({ mqtt: redactConfig(config) }, 'mqtt sink starting');
    sink.connect();
    return sink;
  }

  async write(record: PipelineRecord): Promise<void> {
    await this.publishRecord(record);
  }

  /**
   * Spools the event for `record` (and its heatmap image) and resolves with the event id once spooled,
   * or with undefined when the publish policy skips it (an ok result under `publish: 'defects'`).
   * Rejects with E_SPOOL when the spool refuses it (full under 'reject-new', disk error, sink closed).
   */
  async publishRecord(record: PipelineRecord): Promise<string | undefined> {
    if (record === null || typeof record !== 'object' || (record.kind !== 'inspection' && record.kind !== 'error')) {
      throw new TypeError('Expected an InspectionResult or ErrorRecord for record');
    }
    if (this.closing) throw new MmaerecError('E_SPOOL', 'the MQTT sink is closed: create a new sink to publish more events');
    if (record.kind === 'inspection' && record.verdict === 'ok' && this.config.publish === 'defects') return undefined;
    const heatmap = record.kind === 'inspection' && this.config.heatmap.enabled ? record.heatmap : undefined;
    const heatmapFits = heatmap !== undefined && heatmap.data.byteLength <= this.config.heatmap.maxBytes;
    if (heatmap && !heatmapFits) {
      this.heatmapsSkipped++;
      this.logger.warn({ frameId: record.frameId, bytes: heatmap.data.byteLength, maxBytes: this.config.heatmap.maxBytes }, 'heatmap larger than heatmap.maxBytes: event published without it');
    }
    const topics = record.camera ? this.topicsOf(record.camera) : this.topics;
    const event = toEvent(record, {
      line: this.config.line,
      station: this.config.station,
      camera: this.config.camera,
      ...(heatmapFits ? { heatmapTopic: topics.heatmap } : {}),
    });
    const topic = record.kind === 'error' ? topics.error : record.verdict === 'defect' ? topics.defect : topics.inspection;
    // The image goes first, so a subscriber that receives the event can already have the image it names;
    // if the spool refuses the image, the event is not spooled either and the caller gets the E_SPOOL.
    let imageKey: number | undefined;
    if (heatmapFits && event.schema !== 'mmaerec.error/1' && event.heatmap) {
      imageKey = await this.spool.put(encodeOutbox({ topic: event.heatmap.topic, payload: Buffer.from(heatmap!.data), qos: this.config.qos, retain: false, binary: true }));
    }
    try {
      await this.spool.put(encodeOutbox({ topic, payload: Buffer.from(JSON.stringify(event)), qos: this.config.qos, retain: false, binary: false }));
    } catch (err) {
      // No event will name that image: withdraw it rather than publish an orphan that holds spool room.
      if (imageKey !== undefined) await this.spool.del(imageKey);
      throw err;
    }
    this.pump();
    return event.id;
  }

  /**
   * Spools a model swap outcome for the `model` topic (QoS of the sink): like events, it reaches the broker
   * after an outage, so the plant sees which bundle produced which events.
   */
  async announce(body: ModelEventBody): Promise<void> {
    if (this.closing) throw new MmaerecError('E_SPOOL', 'the MQTT sink is closed: create a new sink to publish more events');
    const event: ModelEvent = { schema: MODEL_SCHEMA, id: newEventId(), line: this.config.line, station: this.config.station, ...body };
    await this.spool.put(encodeOutbox({ topic: this.topics.model, payload: Buffer.from(JSON.stringify(event)), qos: this.config.qos, retain: false, binary: false }));
    this.pump();
  }

  /**
   * Calls `handler` with each message on the station's command topic (subscribed again on every connection,
   * as sessions are clean). QoS 1: a command sent while the station was connected is not lost on the way.
   */
  onCommand(handler: (payload: Buffer) => void): void {
    this.commandHandler = handler;
    if (this.client && this.connected) this.subscribeCommands(this.client);
  }

  private subscribeCommands(client: MqttClient): void {
    if (!this.commandHandler) return;
    client.subscribe(this.topics.command, { qos: 1 }, (err) => {
      if (err) this.logger.error({ topic: this.topics.command }, `cannot subscribe to the command topic (${err.message}): swap commands are not taken until the next connection`);
    });
  }

  /** The topics of one camera of a cell (its ids over this sink's line and station), resolved once. */
  private topicsOf(camera: CameraIds): Topics {
    const ids = { line: camera.line ?? this.config.line, station: camera.station ?? this.config.station, camera: camera.camera };
    const key = `${ids.line}/${ids.station}/${ids.camera}`;
    let topics = this.cameraTopics.get(key);
    if (!topics) {
      topics = resolveTopics(ids, this.config.topics ?? {});
      this.cameraTopics.set(key, topics);
    }
    return topics;
  }

  /** Makes every accepted event durable now (fsync of the spool), whatever the fsync policy. */
  async flush(): Promise<void> {
    await this.spool.sync();
  }

  /**
   * Resolves when the broker has acknowledged everything accepted so far; rejects with E_BROKER after
   * `timeoutMs` (the events stay spooled).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.spool.stats().entries === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        const why = this.lastError ? ` (${this.lastError.message})` : '';
        reject(new MmaerecError('E_BROKER', `${this.spool.stats().entries} events were not acknowledged by the broker within ${timeoutMs} ms${why}: they stay spooled; check the broker connection`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  status(): MqttSinkStatus {
    const s = this.spool.stats();
    return {
      connected: this.connected,
      spooled: s.entries,
      spooledBytes: s.bytes,
      delivered: this.delivered,
      dropped: s.dropped,
      heatmapsSkipped: this.heatmapsSkipped,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * When the oldest event still waiting in the spool for the broker was captured (ms since the epoch), read from
   * the spool itself (its first few entries: heatmap images carry no time and are passed over); undefined when no
   * event waits. For the live station page's "oldest undelivered".
   */
  async oldestUndeliveredAt(): Promise<number | undefined> {
    let looked = 0;
    for await (const entry of this.spool.iterate()) {
      const message = decodeOutbox(entry.value);
      if (message && !message.binary) {
        const at = capturedAtOf(message.payload);
        if (at !== undefined) return at;
      }
      if (++looked >= 8) return undefined;
    }
    return undefined;
  }

  /**
   * Drains, then disconnects and closes the spool. Until the spool is empty or `closeTimeoutMs` has passed, the
   * sink goes on connecting (a run that ends before the broker answered) and handing spooled events to the
   * broker. From then on nothing new is handed out: an event handed out now could not be acknowledged before
   * the disconnect, and the next start would send it again. Events already in flight get up to ACK_GRACE_MS
   * for their acknowledgements (recorded in the spool), then the retained "offline (shutdown)" status goes out
   * and the client disconnects. Unacknowledged events stay spooled for the next start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeatTimer);
    const deadline = Date.now() + this.config.closeTimeoutMs;
    while (this.spool.stats().entries > 0 && Date.now() < deadline) await sleep(10);
    this.handingOut = false;
    const grace = Date.now() + Math.min(ACK_GRACE_MS, this.config.closeTimeoutMs);
    while (this.connected && this.inflight.size > 0 && Date.now() < grace) await sleep(10);
    this.ending = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    const wasConnected = client !== undefined && this.connected;
    if (client && this.connected) await withTimeout(this.publishStatus(client, 'offline', 'shutdown'), 500);
    this.generation++;
    this.connected = false;
    if (client) {
      // A graceful end waits for MQTT.js's own outgoing queue, which a broker that stopped answering never
      // empties; a client still connecting has nothing to say: cut both (an open socket keeps the process alive).
      const graceful = wasConnected && this.inflight.size === 0;
      const ended = await withTimeout(new Promise<void>((resolve) => client.end(!graceful, {}, () => resolve())), 1000);
      if (!ended) client.stream?.destroy();
    }
    await this.spool.close();
    this.logger.info({ spooled: this.spool.stats().entries, delivered: this.delivered }, 'mqtt sink closed');
  }

  /**
   * Messages (events and heatmap images) accepted but not acknowledged by the broker: after close(), what stays
   * in the spool for the next start.
   */
  undelivered(): number {
    return this.spool.stats().entries;
  }

  private connect(): void {
    if (this.ending) return;
    const generation = ++this.generation;
    const c = this.config;
    const options: IClientOptions = {
      protocolVersion: c.protocol === '5' ? 5 : 4,
      clientId: this.clientId,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves, with jittered backoff
      connectTimeout: c.connectTimeoutMs,
      keepalive: c.keepaliveS,
      will: { topic: this.topics.status, payload: Buffer.from(JSON.stringify(this.statusEvent('offline', 'connection-lost'))), qos: 1, retain: true },
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(this.tls ?? {}),
    };
    const client = this.connectClient(c.url, options);
    this.client = client;
    this.errorOnThisConnection = false;
    client.on('connect', () => {
      // Ending: close() ends this client. A connection made while close() drains only delivers the spool.
      if (generation !== this.generation || this.ending) return;
      this.connected = true;
      this.connectedAt = Date.now();
      this.cursor = 0;
      this.inflight.clear();
      if (this.lastError) this.logger.info({ url: redactUrl(c.url) }, 'mqtt broker connection restored');
      this.lastError = undefined;
      this.logger.info({ url: redactUrl(c.url), clientId: this.clientId, spooled: this.spool.stats().entries }, 'mqtt connected');
      if (!this.closing) void this.publishStatus(client, 'online', 'birth');
      // Closing: a heartbeat started now would leave an interval that nobody clears.
      if (c.heartbeatMs > 0 && !this.closing) {
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => void this.publishStatus(client, 'online', 'heartbeat'), c.heartbeatMs);
        this.heartbeatTimer.unref();
      }
      this.subscribeCommands(client);
      this.emit('connect');
      this.pump();
    });
    client.on('message', (topic, payload) => {
      if (generation === this.generation && topic === this.topics.command) this.commandHandler?.(payload);
    });
    client.on('error', (err: Error & { code?: string | number }) => {
      if (generation !== this.generation) return;
      this.errorOnThisConnection = true;
      this.reportError(connectError(err, redactUrl(c.url), c.protocol));
    });
    client.on('close', () => {
      if (generation !== this.generation) return;
      this.onConnectionLost(client);
    });
  }

  private onConnectionLost(client: MqttClient): void {
    this.generation++; // late PUBACKs of this connection no longer count: those entries are resent
    clearInterval(this.heartbeatTimer);
    const lived = Date.now() - this.connectedAt;
    const unacknowledged = this.inflight.size;
    this.inflight.clear();
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    if (this.connected) {
      this.connected = false;
      this.logger.warn({ url: redactUrl(this.config.url), spooled: this.spool.stats().entries }, 'mqtt connection lost; events are spooled until it is back');
      this.emit('offline');
      // Backoff restarts only after a stable connection, so a broker that accepts and then drops us
      // (an ACL denial, a packet too large) is retried ever more slowly instead of hammered.
      if (lived >= STABLE_CONNECTION_MS) this.attempt = 0;
      else if (unacknowledged > 0 && !this.errorOnThisConnection && !this.closing) {
        this.reportError(closedWhilePublishing(redactUrl(this.config.url), lived, unacknowledged));
      }
    }
    if (this.ending) return;
    const delay = backoffDelay(this.attempt++, this.config.reconnect);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private reportError(err: MmaerecError): void {
    const repeated = this.lastError?.message === err.message;
    this.lastError = err;
    // A broker that stays down must not flood the log: a repeat of the same error at most once a minute.
    if (!repeated || Date.now() - this.lastErrorLoggedAt > 60_000) {
      this.lastErrorLoggedAt = Date.now();
      this.logger.error({ code: err.code, spooled: this.spool.stats().entries }, err.message);
    }
    this.emit('broker-error', err);
  }

  /** Hands spooled entries to the broker, oldest first, keeping at most maxInflight unacknowledged. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop()
      .catch((err: unknown) => this.logger.error({ err: String(err) }, 'mqtt publisher failed to read the spool'))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async pumpLoop(): Promise<void> {
    const generation = this.generation;
    const client = this.client;
    if (!this.connected || !client || !this.handingOut) return;
    // Corked, the PUBLISH packets of one pass leave in a single writev instead of one syscall each.
    const stream = client.stream;
    stream.cork();
    try {
      for await (const entry of this.spool.iterate(this.cursor)) {
        if (!this.connected || generation !== this.generation || !this.handingOut) return;
        this.cursor = entry.key;
        const message = decodeOutbox(entry.value);
        if (!message) {
          this.logger.error({ key: entry.key }, 'spool entry in an unknown format dropped (written by a newer SDK?)');
          await this.spool.del(entry.key);
          this.notifyIfDrained(); // it may have been the last entry a drain() waits for
          continue;
        }
        this.send(client, generation, entry.key, message);
        if (this.inflight.size >= this.config.maxInflight) return; // an acknowledgement calls pump() again
      }
    } finally {
      stream.uncork();
    }
  }

  private send(client: MqttClient, generation: number, key: number, m: OutboxMessage): void {
    this.inflight.add(key);
    const options: IClientPublishOptions = { qos: m.qos, retain: m.retain };
    if (this.config.protocol === '5') {
      options.properties = m.binary ? { contentType: 'application/octet-stream' } : { contentType: 'application/json', payloadFormatIndicator: true };
    }
    client.publish(m.topic, m.payload, options, (err) => {
      if (generation !== this.generation) return;
      this.inflight.delete(key);
      if (err) {
        // A negative PUBACK (MQTT 5): keep the entry; it is retried after the next reconnect.
        this.reportError(publishRefused(err, m.topic));
      } else {
        this.delivered++;
        void this.spool.del(key).then(() => this.notifyIfDrained());
      }
      this.pump();
    });
  }

  private notifyIfDrained(): void {
    if (this.spool.stats().entries !== 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private statusEvent(state: StatusEvent['state'], reason: StatusEvent['reason']): StatusEvent {
    const s = this.spool.stats();
    return {
      schema: STATUS_SCHEMA,
      id: newEventId(),
      line: this.config.line,
      station: this.config.station,
      camera: this.config.camera,
      state,
      reason,
      at: new Date().toISOString(),
      clientId: this.clientId,
      sdkVersion: SDK_VERSION,
      scoringEngine: scoringEngine(),
      ...(reason === 'connection-lost' ? {} : { uptimeS: Math.round((Date.now() - this.startedAt) / 1000), spool: { entries: s.entries, bytes: s.bytes, dropped: s.dropped }, delivered: this.delivered }),
    };
  }

  /** Status is not spooled: after an outage only the current state matters, and the retained message holds it. */
  private publishStatus(client: MqttClient, state: StatusEvent['state'], reason: StatusEvent['reason']): Promise<void> {
    const payload = JSON.stringify(this.statusEvent(state, reason));
    return new Promise((resolve) => {
      client.publish(this.topics.status, payload, { qos: 1, retain: true }, () => resolve());
    });
  }
}

function modeOptions(m: { file?: number; dir?: number }): { fileMode?: number; dirMode?: number } {
  return { ...(m.file !== undefined ? { fileMode: m.file } : {}), ...(m.dir !== undefined ? { dirMode: m.dir } : {}) };
}

/** Whether `p` settled within `ms`. */
async function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return settled;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The capturedAt of a spooled JSON event (ms since the epoch); undefined for a payload without one. */
function capturedAtOf(payload: Buffer): number | undefined {
  try {
    const at = Date.parse((JSON.parse(payload.toString('utf8')) as { capturedAt?: unknown }).capturedAt as string);
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}
