/**
 * Plant-side store throughput: events/s that N examples/plant-consumer members of one share group write into
 * PostgreSQL (one transaction per event, acknowledged after commit).
 *
 *   npm run bench:plant -- [--events 5000] [--consumers 3]
 *
 * Starts a private PostgreSQL (initdb in /tmp, default settings: fsync and synchronous_commit on) and a private
 * Mosquitto (test/helpers), starts the members and waits until they have subscribed, then publishes the events
 * (inspection events as MqttSink writes them: a third ok, the rest defects with 1–3 regions, an error event
 * every 97th) with a plain QoS 1 publisher as fast as the broker takes them. Rates: stored (first to last
 * commit, from events.stored_at) and end to end (first publish → last row visible).
 */
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { toEvent } from '../src/publish/events.js';
import { resolveTopics } from '../src/publish/topics.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { consumerArgs, plantRecord, startConsumer, waitForRows } from '../test/helpers/plant.js';
import { noPostgres, startPostgres } from '../test/helpers/postgres.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '5000' }, consumers: { type: 'string', default: '3' } } });
const total = Number(values.events);
const members = Number(values.consumers);
if (!(Number.isInteger(total) && total > 0)) throw new Error(`--events ${values.events} is invalid: give a positive whole number`);
if (!(Number.isInteger(members) && members > 0 && members <= 16)) throw new Error(`--consumers ${values.consumers} is invalid: give 1 to 16`);
const missing = noPostgres();
if (missing) {
  process.stderr.write(`bench:plant needs PostgreSQL: ${missing}\n`);
  process.exit(1);
}

const ids = { line: 'bench', station: 's1', camera: 'c1' };
const topics = resolveTopics(ids);
const messages = Array.from({ length: total }, (_, n) => {
  const record = plantRecord(n);
  const event = toEvent(record, ids);
  const topic = record.kind === 'error' ? topics.error : record.verdict === 'defect' ? topics.defect : topics.inspection;
  return { topic, payload: JSON.stringify(event) };
});

const [db, broker] = await Promise.all([startPostgres(), startMosquitto()]);
try {
  const url = await db.createDatabase('bench');
  const consumers = Array.from({ length: members }, (_, i) => startConsumer(consumerArgs(broker.url, url, `bench-${i + 1}`)));
  await Promise.all(consumers.map((c) => c.ready));
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const started = performance.now();
  for (let i = 0; i < total; i += 200) {
    await Promise.all(messages.slice(i, i + 200).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  const published = performance.now();
  const reached = await waitForRows(db, 'bench', total, 600_000);
  const visible = performance.now();
  await publisher.endAsync();
  const summaries = await Promise.all(consumers.map((c) => c.stop()));
  if (reached !== total) throw new Error(`only ${reached} of ${total} events were stored within 10 minutes`);
  const [span] = await db.query<{ ms: number; regions: number }>('bench',
    'SELECT extract(epoch FROM max(stored_at) - min(stored_at)) * 1000 AS ms, (SELECT count(*)::int FROM regions) AS regions FROM events');
  const row = {
    events: total,
    consumers: members,
    regions: span.regions,
    publishedPerS: Math.round(total / ((published - started) / 1000)),
    storedPerS: Math.round((total - 1) / (Number(span.ms) / 1000)),
    endToEndPerS: Math.round(total / ((visible - started) / 1000)),
    perConsumer: summaries.map((s) => s.stored),
    duplicates: summaries.reduce((n, s) => n + s.duplicates, 0),
    machine: `${cpus()[0]?.model ?? 'unknown'} ×${cpus().length}, load ${loadavg()[0].toFixed(1)}`,
  };
  process.stdout.write(JSON.stringify(row) + '\n');
} finally {
  await broker.dispose();
  await db.dispose();
}
