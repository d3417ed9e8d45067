/**
 * Example MQTT subscriber for mmaerec-edge events: subscribes, validates every event against the published
 * schemas, deduplicates by event id (delivery is at-least-once: after a broker outage or a device restart an
 * event may arrive twice, always with the same id), and prints a summary.
 *
 *   node --import tsx examples/subscriber.ts --broker mqtt://127.0.0.1:1883 --topic 'mmaerec/#'
 *   node --import tsx examples/subscriber.ts --broker mqtts://broker:8883 --ca ca.pem --count 100 --json
 *
 * Flags: --broker URL (required), --topic T (repeatable, default mmaerec/#), --count N (exit after N distinct
 * inspection/error events), --timeout S (exit after S seconds), --username U (password from MQTT_PASSWORD),
 * --ca/--cert/--key PEM files, --protocol 5|3.1.1, --client-id ID with --persistent (broker keeps a session
 * and queues events while this subscriber is away), --quiet (no line per event), --json (summary as JSON).
 * Exit status: 0, or 2 when --count was given and not reached before --timeout.
 * (In your own project import from 'mmaerec-edge' instead of '../src/…'.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { eventSchema, type MmaerecEvent } from '../src/publish/events.js';

const { values: flags } = parseArgs({
  options: {
    broker: { type: 'string' },
    topic: { type: 'string', multiple: true },
    count: { type: 'string' },
    timeout: { type: 'string' },
    username: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    protocol: { type: 'string', default: '5' },
    'client-id': { type: 'string' },
    persistent: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`subscriber: ${message}\n`);
  process.exit(1);
}
if (!flags.broker) fail('--broker is missing: give the broker URL, e.g. --broker mqtt://127.0.0.1:1883');
const wanted = flags.count === undefined ? undefined : Number(flags.count);
if (wanted !== undefined && !(Number.isInteger(wanted) && wanted > 0)) fail(`--count ${flags.count} is invalid: give a positive whole number`);
const timeoutS = flags.timeout === undefined ? undefined : Number(flags.timeout);
if (timeoutS !== undefined && !(timeoutS > 0)) fail(`--timeout ${flags.timeout} is invalid: give a positive number of seconds`);
if (flags.protocol !== '5' && flags.protocol !== '3.1.1') fail(`--protocol ${flags.protocol} is invalid: use 5 or 3.1.1`);
if (flags.persistent && !flags['client-id']) fail('--persistent needs --client-id: the broker keeps the session under that id');
const pem = (path: string | undefined, flag: string) => {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`${flag} "${path}" cannot be read (${(err as NodeJS.ErrnoException).code}): give a PEM file`);
  }
};

/** Remembers the last ids seen; ULIDs from one device increase, so a window of recent ids catches replays. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly limit = 200_000) {}
  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

const seen = new RecentIds();
const summary = {
  messages: 0,
  events: 0,
  duplicates: 0,
  invalid: 0,
  heatmaps: 0,
  defects: 0,
  ok: 0,
  errors: 0,
  status: {} as Record<string, string>,
  firstInvalid: undefined as string | undefined,
};

const client = mqtt.connect(flags.broker, {
  protocolVersion: flags.protocol === '5' ? 5 : 4,
  reconnectPeriod: 1000,
  clean: !flags.persistent,
  ...(flags['client-id'] ? { clientId: flags['client-id'] } : {}),
  ...(flags.username ? { username: flags.username, password: process.env.MQTT_PASSWORD } : {}),
  ...(flags.ca ? { ca: pem(flags.ca, '--ca') } : {}),
  ...(flags.cert ? { cert: pem(flags.cert, '--cert'), key: pem(flags.key, '--key') } : {}),
});
client.on('connect', () => {
  client.subscribe(flags.topic ?? ['mmaerec/#'], { qos: 1 }, (err) => err && fail(`subscribe failed (${err.message}): check --topic and the broker's access rules`));
});
client.on('error', (err) => process.stderr.write(`subscriber: ${err.message} (retrying)\n`));
client.on('message', (topic, payload) => {
  summary.messages++;
  if (topic.includes('/heatmap/')) {
    summary.heatmaps++;
    return;
  }
  let parsed: ReturnType<typeof eventSchema.safeParse>;
  try {
    parsed = eventSchema.safeParse(JSON.parse(payload.toString('utf8')));
  } catch {
    parsed = eventSchema.safeParse(undefined);
  }
  if (!parsed.success) {
    summary.invalid++;
    summary.firstInvalid ??= `${topic}: ${parsed.error.issues[0]?.message ?? 'not JSON'}`;
    return;
  }
  const event = parsed.data;
  if (!seen.add(event.id)) {
    summary.duplicates++;
    return;
  }
  onEvent(topic, event);
});

function onEvent(topic: string, event: MmaerecEvent): void {
  if (event.schema === 'mmaerec.status/1') {
    summary.status[`${event.line}/${event.station}/${event.camera}`] = `${event.state} (${event.reason})`;
    if (!flags.quiet) process.stdout.write(`STATUS ${event.line}/${event.station}/${event.camera} ${event.state} ${event.reason} ${event.at}\n`);
    return;
  }
  if (event.schema === 'mmaerec.model/1') {
    const bundle = event.inService ? `${event.inService.bundleName} ${event.inService.bundleSha256.slice(0, 12)}` : 'none';
    if (!flags.quiet) process.stdout.write(`MODEL  ${event.line}/${event.station} ${event.outcome} ${event.candidate.path}${event.reason ? ` (${event.reason})` : ''}; in service: ${bundle}\n`);
    return;
  }
  summary.events++;
  if (event.schema === 'mmaerec.error/1') {
    summary.errors++;
    if (!flags.quiet) process.stdout.write(`ERROR  ${event.line}/${event.station}/${event.camera} frame=${event.frameId} ${event.code}: ${event.message} id=${event.id}\n`);
  } else {
    if (event.verdict === 'defect') summary.defects++;
    else summary.ok++;
    if (!flags.quiet) {
      process.stdout.write(`${event.verdict === 'defect' ? 'DEFECT' : 'OK    '} ${event.line}/${event.station}/${event.camera} frame=${event.frameId} score=${event.score.toFixed(4)} regions=${event.regions.length} id=${event.id}\n`);
    }
  }
  if (wanted !== undefined && summary.events >= wanted) finish(0);
}

let timer: NodeJS.Timeout | undefined;
if (timeoutS !== undefined) timer = setTimeout(() => finish(wanted !== undefined ? 2 : 0), timeoutS * 1000);
process.on('SIGINT', () => finish(0));

function finish(code: number): void {
  clearTimeout(timer);
  const { firstInvalid, ...counts } = summary;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ summary: { ...counts, ...(firstInvalid ? { firstInvalid } : {}) } }) + '\n');
  } else {
    process.stdout.write(
      `summary: ${counts.events} distinct events (${counts.defects} defect, ${counts.ok} ok, ${counts.errors} error), ` +
        `${counts.duplicates} duplicates dropped by id, ${counts.invalid} invalid, ${counts.heatmaps} heatmaps, ${counts.messages} messages\n`,
    );
    if (firstInvalid) process.stdout.write(`first invalid: ${firstInvalid}\n`);
    for (const [source, state] of Object.entries(counts.status)) process.stdout.write(`status ${source}: ${state}\n`);
  }
  client.end(false, {}, () => process.exit(code));
}
