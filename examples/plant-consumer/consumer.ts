/**
 * Plant-side consumer: takes mmaerec-edge events from an MQTT v5 shared subscription and stores each exactly
 * once in PostgreSQL. Run N copies with the same --group and different --client-id values: the broker hands
 * each event to one member of the group, so the copies split the stream.
 *
 *   node --import tsx examples/plant-consumer/consumer.ts --broker mqtt://broker:1883 \
 *     --database postgres://plant@db/plant --client-id plant-1 [--group plant] [--topic 'mmaerec/+/+/defect' …]
 *
 * Delivery: QoS 1 with a persistent session (clean start off, --session-expiry, default one day). A message is
 * acknowledged only after the transaction that stores it has committed, so a consumer killed at any point loses
 * nothing: what it had not acknowledged stays in its session on the broker. Mosquitto keeps such messages for
 * that session only (it does not hand them to the other members), and goes on routing a share of new events
 * to the session while the member is away — a replacement must therefore reuse the dead member's --client-id
 * (a fixed set of member ids, as a StatefulSet gives). See README.md beside this file and docs/plant-side.md.
 *
 * Flags: --broker URL, --database URL (or DATABASE_URL), --client-id ID (required, stable per member),
 * --group NAME (default plant), --topic FILTER (repeatable; default the defect, inspection and error topics of
 * every line and station), --session-expiry S, --receive-maximum N (messages in flight to this member, default
 * 8: MQTT.js handles incoming packets in order, so a PINGRESP waits behind them; a large window of slow
 * commits can outlast the keep-alive and drop the connection), --username U (password from MQTT_PASSWORD), --ca/--cert/--key PEM files, --quiet (no per-event lines).
 * On SIGTERM/SIGINT it finishes the message in hand, disconnects (the session stays) and prints a JSON summary.
 * (In your own project import from 'mmaerec-edge' instead of '../../src/…'.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt, { type IPublishPacket } from 'mqtt';
import pg from 'pg';
import { migrate } from './migrate.js';
import { parseEvent } from './parse.js';
import { classifyFailure, storeEvent, storeStatus, type StoreOutcome } from './store.js';

const DEFAULT_TOPICS = ['mmaerec/+/+/defect', 'mmaerec/+/+/inspection', 'mmaerec/+/+/error'];
const SHARE_NAME = /^[^/+#\u0000]+$/;

const { values: flags } = parseArgs({
  options: {
    broker: { type: 'string' },
    database: { type: 'string' },
    'client-id': { type: 'string' },
    group: { type: 'string', default: 'plant' },
    topic: { type: 'string', multiple: true },
    'session-expiry': { type: 'string', default: '86400' },
    'receive-maximum': { type: 'string', default: '8' },
    username: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const tag = `plant-consumer${flags['client-id'] ? `[${flags['client-id']}]` : ''}`;
const log = (line: string) => process.stderr.write(`${tag}: ${line}\n`);
function fail(message: string): never {
  log(message);
  process.exit(1);
}

const brokerUrl = flags.broker ?? fail('--broker is missing: give the broker URL, e.g. --broker mqtt://127.0.0.1:1883');
const databaseUrl = flags.database ?? process.env.DATABASE_URL ?? fail('--database is missing: give a PostgreSQL URL (or set DATABASE_URL), e.g. --database postgres://plant@127.0.0.1/plant');
const clientId = flags['client-id'] ?? fail('--client-id is missing: give each member of the group a stable id, e.g. --client-id plant-1 (a replacement reuses it)');
if (!SHARE_NAME.test(flags.group)) fail(`--group "${flags.group}" is invalid: a share name may not contain "/", "+" or "#"`);
const sessionExpiry = wholeNumber('--session-expiry', flags['session-expiry'], 0, 0xffffffff);
const receiveMaximum = wholeNumber('--receive-maximum', flags['receive-maximum'], 1, 65535);
const filters = (flags.topic ?? DEFAULT_TOPICS).map((t) => `$share/${flags.group}/${t}`);

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${flag} ${text} is invalid: give a whole number from ${min} to ${max}`);
  return n;
}
function pem(path: string | undefined, flag: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`${flag} "${path}" cannot be read (${(err as NodeJS.ErrnoException).code}): give a PEM file`);
  }
}
/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

const summary = { clientId, stored: 0, duplicates: 0, rejected: 0, statuses: 0, ignored: 0 };

const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
pool.on('error', (err) => log(`database connection lost (${err.message}): the next write reconnects`));
try {
  const applied = await migrate(pool);
  if (applied.length) log(`applied migrations ${applied.join(', ')}`);
} catch (err) {
  fail(`database ${redact(databaseUrl)} not usable (${(err as Error).message}): check --database and that the server runs`);
}

const client = mqtt.connect(brokerUrl, {
  protocolVersion: 5,
  clientId,
  clean: false,
  // Soon after a broker restart: until a member subscribes again, Mosquitto drops what stations publish.
  reconnectPeriod: 250,
  resubscribe: false, // the 'connect' handler subscribes each time (MQTT.js would skip a resumed session)
  properties: { sessionExpiryInterval: sessionExpiry, receiveMaximum },
  ...(flags.username ? { username: flags.username, password: process.env.MQTT_PASSWORD } : {}),
  ...(flags.ca ? { ca: pem(flags.ca, '--ca') } : {}),
  ...(flags.cert ? { cert: pem(flags.cert, '--cert'), key: pem(flags.key, '--key') } : {}),
});

client.on('connect', (connack) => {
  if (connack.sessionPresent) log(`resumed session on ${redact(brokerUrl)}`);
  // Subscribe on every connect, even to a resumed session: Mosquitto 2.0 does not save shared subscriptions
  // in its persistence file, so after a broker restart the session comes back without them (docs/plant-side.md).
  // Subscribing again to a filter the session holds replaces it; it does not add a second member.
  client.subscribe(filters, { qos: 1 }, (err, granted) => {
    // The connection broke before the SUBACK: the next 'connect' subscribes again.
    if (err) return void log(`subscribe interrupted (${err.message}): subscribing again on the next connection`);
    const refused = granted?.find((g) => g.qos >= 0x80);
    if (refused) {
      fail(`subscribe to ${refused.topic} refused (reason code 0x${refused.qos.toString(16)}): the broker must support MQTT v5 shared subscriptions and allow these topics`);
    }
    log(`subscribed to ${filters.join(', ')}`);
  });
});
let lastBrokerError = '';
client.on('error', (err) => {
  if (err.message !== lastBrokerError) log(`broker: ${err.message} (retrying)`);
  lastBrokerError = err.message;
});
client.on('connect', () => (lastBrokerError = ''));

let stopping = false;
let inHand: Promise<void> = Promise.resolve();
/**
 * MQTT.js calls this for each message, one at a time, and sends the PUBACK only when `done` is called: here,
 * after the commit. While stopping, `done` is never called, so the message stays unacknowledged on the broker.
 */
client.handleMessage = (packet: IPublishPacket, done) => {
  const work = handle(packet);
  inHand = work.then(() => undefined, () => undefined);
  work.then((handled) => handled && done(), (err: Error) => fail(`stopped without acknowledging ${packet.topic}: ${err.message}`));
};

/** Stores or rejects one message; true when it may be acknowledged. */
async function handle(packet: IPublishPacket): Promise<boolean> {
  if (stopping) return false; // arrived after SIGTERM: left on the broker for this member's next start
  const topic = packet.topic;
  if (topic.includes('/heatmap/')) {
    summary.ignored++; // binary heatmap images: this store keeps events only
    return true;
  }
  const parsed = parseEvent(packet.payload as Buffer);
  if (!parsed.ok) {
    summary.rejected++;
    log(`rejected message on ${topic}: ${parsed.problem}`);
    return true;
  }
  const { event, raw } = parsed;
  // Model swap outcomes (mmaerec.model/1, issue 19 part 2) have no table in this store yet: acknowledged, not stored.
  if (event.schema === 'mmaerec.model/1') {
    log(`model event on ${topic} (${event.outcome} ${event.candidate.path}): not stored by this consumer`);
    return true;
  }
  const outcome = await withRetry(topic, () =>
    event.schema === 'mmaerec.status/1' ? storeStatus(pool, event, raw) : storeEvent(pool, event, { raw, topic, storedBy: clientId }));
  if (outcome === undefined) return !stopping;
  if (event.schema === 'mmaerec.status/1') summary.statuses++;
  else if (outcome === 'stored') summary.stored++;
  else summary.duplicates++;
  if (!flags.quiet && event.schema !== 'mmaerec.status/1') {
    process.stdout.write(`${outcome === 'stored' ? 'STORED   ' : 'DUPLICATE'} ${event.line}/${event.station}/${event.camera} ${event.schema} id=${event.id}\n`);
  }
  return true;
}

/**
 * Runs a write until it commits. A transient failure (database down, connection lost) is retried with backoff
 * — the broker meanwhile keeps the rest of this member's share queued. Returns undefined when the data was
 * refused (rejected, logged: acknowledged so that it does not block the member) or when stopping.
 */
async function withRetry(topic: string, write: () => Promise<StoreOutcome>): Promise<StoreOutcome | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const outcome = await write();
      if (attempt > 0) log('database reachable again');
      return outcome;
    } catch (err) {
      const kind = classifyFailure(err);
      if (kind === 'fatal') throw err;
      if (kind === 'reject') {
        summary.rejected++;
        log(`rejected message on ${topic}: the database refused it (${(err as Error).message})`);
        return undefined;
      }
      if (attempt === 0) log(`database write failed (${(err as Error).message}): retrying until it succeeds`);
      if (stopping) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
    }
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await inHand;
  // Forced: MQTT.js would otherwise wait for messages it already queued; those are redelivered to this id.
  await client.endAsync(true);
  await pool.end();
  process.stdout.write(JSON.stringify({ summary }) + '\n');
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
