import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspectionEventSchema } from '../../src/publish/events.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect, resultIds } from './collector.js';
import { errorRecord, inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';
import { needs } from '../helpers/require-tool.js';

const root = mkdtempSync(join(tmpdir(), 'mmaerec-mqtt-sink-'));
let n = 0;
const spoolDir = (): string => join(root, `spool${++n}`);
const fast = { reconnect: { initialMs: 50, maxMs: 400, factor: 2 } };

needs(noMosquitto).describe('MqttSink against a private Mosquitto', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto({ users: { station: 'right-password' } });
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(root, { recursive: true, force: true });
  });
  const creds = { username: 'station', password: 'right-password' };

  test('normal delivery: every event arrives once, valid, on its topic; heatmaps as binary; retained birth status', async () => {
    const sub = await collect(broker.url, 'mmaerec/l1/#', creds);
    const log = recordingLogger();
    const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l1', station: 's1', camera: 'c1', publish: 'all', spool: { dir: spoolDir() }, logger: log, ...fast });
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      const record = i % 50 === 0 ? errorRecord(i) : inspection(i, i % 3 === 0 ? 'defect' : 'ok', i % 100 === 1 ? 2000 : 0);
      ids.push((await sink.publishRecord(record))!);
    }
    expect(new Set(ids).size).toBe(600);
    expect([...ids].sort()).toEqual(ids); // ULIDs from one sink sort in publish order
    await sink.drain(20_000);
    await sub.waitFor(() => resultIds(sub).size >= 600, 10_000, '600 events');
    expect(sub.invalid).toEqual([]);
    expect(resultIds(sub)).toEqual(new Set(ids));
    const byTopic = (id: string) => sub.events.get(id)!;
    const defect = byTopic(ids[3]!);
    expect(defect).toMatchObject({ schema: 'mmaerec.inspection/1', verdict: 'defect', frameId: 'frame-3', line: 'l1', station: 's1', camera: 'c1', capturedAt: new Date(1_790_000_000_003).toISOString() });
    expect(byTopic(ids[0]!)).toMatchObject({ schema: 'mmaerec.error/1', code: 'E_INPUT' });
    const withHeatmap = inspectionEventSchema.parse(byTopic(ids[1]!));
    expect(withHeatmap.heatmap).toEqual({ topic: `mmaerec/l1/s1/heatmap/${ids[1]}`, format: 'png', width: 64, height: 64, bytes: 2000 });
    await sub.waitFor(() => sub.binary.size === 6, 5000, 'six heatmaps');
    expect(sub.binary.get(withHeatmap.heatmap!.topic)).toEqual(Buffer.alloc(2000, 1));
    expect(sink.status()).toMatchObject({ connected: true, spooled: 0, delivered: 606 });
    await sink.close();
    await sub.end();
    // The retained status tells a late subscriber that the station went offline cleanly.
    const late = await collect(broker.url, 'mmaerec/l1/s1/status', creds);
    await late.waitFor(() => late.events.size === 1, 5000, 'retained status');
    expect([...late.events.values()][0]).toMatchObject({ schema: 'mmaerec.status/1', state: 'offline', reason: 'shutdown' });
    await late.end();
    expect(log.text()).not.toContain('right-password');
  });

  test("publish: 'defects' skips ok results; heatmaps over heatmap.maxBytes are left out and counted", async () => {
    const sub = await collect(broker.url, 'mmaerec/l2/#', creds);
    const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l2', station: 's1', camera: 'c1', spool: { kind: 'memory' }, heatmap: { maxBytes: 1000 }, logger: recordingLogger() });
    expect(await sink.publishRecord(inspection(1, 'ok'))).toBeUndefined();
    const id = await sink.publishRecord(inspection(2, 'defect', 5000));
    await sink.drain(5000);
    await sub.waitFor(() => sub.counts.has(id!), 5000, 'the defect');
    expect((sub.events.get(id!) as { heatmap?: unknown }).heatmap).toBeUndefined();
    expect(sub.binary.size).toBe(0);
    expect(sink.status()).toMatchObject({ delivered: 1, heatmapsSkipped: 1 });
    await sink.close();
    await sub.end();
  });

  test('QoS 2 over MQTT 3.1.1: every event arrives, entries deleted on PUBCOMP', async () => {
    const sub = await collect(broker.url, 'mmaerec/l9/#', creds);
    const sink = await MqttSink.create({ url: broker.url, ...creds, protocol: '3.1.1', qos: 2, line: 'l9', station: 's1', camera: 'c1', spool: { dir: spoolDir() }, logger: recordingLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push((await sink.publishRecord(inspection(i)))!);
    await sink.drain(10_000);
    await sub.waitFor(() => ids.every((id) => sub.counts.has(id)), 5000, 'every id');
    expect(sink.status()).toMatchObject({ spooled: 0, delivered: 300 });
    expect(broker.log()).toMatch(/as mmaerec-l9-s1-c1 \(p2, c1, k30, u'station'\)/); // p2 = MQTT 3.1.1
    await sink.close();
    await sub.end();
  });

  test('last will: an abrupt disconnect publishes the retained offline status; reconnect publishes birth again', async () => {
    const sub = await collect(broker.url, 'mmaerec/l3/s1/status', creds);
    const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l3', station: 's1', camera: 'c1', spool: { kind: 'memory' }, logger: recordingLogger(), ...fast });
    await new Promise<void>((r) => sink.once('connect', () => r()));
    const states = () => [...sub.events.values()].map((e) => `${(e as { state: string }).state}/${(e as { reason: string }).reason}`);
    await sub.waitFor(() => states().includes('online/birth'), 5000, 'birth');
    // Cut the TCP connection under MQTT.js, as a pulled cable or a crash would.
    (sink as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await sub.waitFor(() => states().includes('offline/connection-lost'), 5000, 'last will');
    await sub.waitFor(() => states().filter((s) => s === 'online/birth').length === 2, 5000, 'second birth');
    await sink.close();
    await sub.end();
  });

  test('broker killed and restarted several times during a stream: every event id arrives, duplicates share the id', async () => {
    // A persistent subscriber session (clean: false) so the broker queues for it across its own restarts.
    const sub = await collect(broker.url, 'mmaerec/l4/#', { ...creds, clientId: 'restart-watcher', clean: false });
    // Every reconnect must find the subscriber's session: a session the broker lost means messages published
    // before MQTT.js resubscribes went nowhere, which is the broker's loss and not the sink's.
    const sessionPresent: boolean[] = [];
    sub.client.on('connect', (connack) => sessionPresent.push(connack.sessionPresent));
    // Persist the session deterministically: a clean stop writes Mosquitto's database (waiting for the 1 s
    // autosave raced it — db_time has whole seconds, so the first save can come 2 s after the subscription).
    await broker.stop();
    await broker.start();
    await sub.waitFor(() => sessionPresent.length === 1 && sub.client.connected, 10_000, 'the subscriber to reconnect');
    expect(sessionPresent).toEqual([true]);
    const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l4', station: 's1', camera: 'c1', spool: { dir: spoolDir() }, logger: recordingLogger(), ...fast });
    const ids: string[] = [];
    let offline = 0;
    sink.on('offline', () => offline++);
    const unacknowledgedAtKill: number[] = [];
    for (let i = 0; i < 3000; i++) {
      ids.push((await sink.publishRecord(inspection(i)))!);
      if (i % 750 === 400) {
        // Kill a live connection each time, and only when the broker holds nothing it has acknowledged but not
        // yet handed to the subscriber: a SIGKILL takes that from Mosquitto's memory, which is the broker's loss,
        // not the sink's (docs/mqtt.md, "What the broker must do"). So: freeze the broker (SIGSTOP), let what is
        // on the wire arrive, and check the subscriber holds every acknowledged event; if not, thaw and retry.
        const caughtUp = () => sink.status().connected && sub.client.connected && resultIds(sub).size >= ids.length - sink.status().spooled;
        const deadline = Date.now() + 30_000;
        for (;;) {
          if (Date.now() > deadline) {
            throw new Error(
              `the subscriber did not catch up with the acknowledged events within 30 s: ${resultIds(sub).size} received of ${ids.length - sink.status().spooled} acknowledged; sessions present at reconnect ${JSON.stringify(sessionPresent)}`,
            );
          }
          // Wait with the broker running (a loaded machine forwards slowly), then confirm with it frozen.
          if (!caughtUp()) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          broker.pause();
          await new Promise((r) => setTimeout(r, 50));
          if (caughtUp()) break;
          broker.resume();
        }
        // A burst into the frozen broker: spooled, written to the socket, certainly unacknowledged at the kill.
        ids.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => sink.publishRecord(inspection(10_000 + i * 100 + k)))) as string[]));
        await new Promise((r) => setImmediate(r));
        const inflight = sink.status().spooled;
        await broker.kill();
        unacknowledgedAtKill.push(inflight);
        await new Promise((r) => setTimeout(r, 150));
        await broker.start();
      }
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await sink.drain(30_000);
    await sub.waitFor(() => ids.every((id) => sub.counts.has(id)), 20_000, 'every id').catch((err: Error) => {
      const missing = ids.map((id, i) => (sub.counts.has(id) ? -1 : i)).filter((i) => i >= 0);
      throw new Error(`${err.message}: missing indices ${missing.slice(0, 20).join(',')} (${missing.length})`);
    });
    const missing = ids.filter((id) => !sub.counts.has(id));
    expect(missing).toEqual([]);
    expect(sessionPresent.every(Boolean)).toBe(true);
    expect(offline).toBe(4);
    expect(Math.min(...unacknowledgedAtKill)).toBeGreaterThan(0);
    expect(sub.invalid).toEqual([]);
    const duplicates = [...sub.counts.values()].filter((c) => c > 1).length;
    console.log(`broker restarts: ${ids.length} events, ${offline} broker kills (unacknowledged at each: ${unacknowledgedAtKill.join(', ')}), 0 lost, ${duplicates} delivered more than once (same id)`);
    await sink.close();
    await sub.end();
  });

  test('wrong password: a clear E_BROKER error, events stay spooled; the right password then delivers them', async () => {
    const dir = spoolDir();
    const log = recordingLogger();
    const bad = await MqttSink.create({ url: broker.url, username: 'station', password: 'wrong-secret', line: 'l5', station: 's1', camera: 'c1', spool: { dir }, logger: log, ...fast });
    const errors: Error[] = [];
    bad.on('broker-error', (e: Error) => errors.push(e));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await bad.publishRecord(inspection(i)))!);
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(errors[0]).toMatchObject({ code: 'E_BROKER' });
    expect(errors[0]!.message).toMatch(new RegExp(`^the MQTT broker at ${broker.url} refused the credentials \\(CONNACK 135 Not authorized\\): check mqtt.username and mqtt.password, and the broker's access rules; events stay spooled and are sent once it succeeds$`));
    expect(bad.status()).toMatchObject({ connected: false, spooled: 50, delivered: 0, lastError: { code: 'E_BROKER' } });
    await expect(bad.drain(300)).rejects.toMatchObject({ code: 'E_BROKER', message: expect.stringMatching(/^50 events were not acknowledged.*refused the credentials/) });
    await bad.close();
    expect(log.text()).toContain('refused the credentials');
    expect(log.text()).not.toContain('wrong-secret');

    const sub = await collect(broker.url, 'mmaerec/l5/#', creds);
    const good = await MqttSink.create({ url: broker.url, ...creds, line: 'l5', station: 's1', camera: 'c1', spool: { dir }, logger: recordingLogger(), ...fast });
    expect(good.status().spooled).toBe(50);
    await good.drain(10_000);
    await sub.waitFor(() => ids.every((id) => sub.counts.has(id)), 5000, 'the 50 spooled events');
    await good.close();
    await sub.end();
  });

  test('spool full, reject-new: writes beyond the bound reject with E_SPOOL; everything accepted is delivered', async () => {
    await withBrokerDown(async () => {
      const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l6', station: 's1', camera: 'c1', spool: { dir: spoolDir(), maxBytes: 20_000 }, logger: recordingLogger(), ...fast });
      const accepted: string[] = [];
      let rejected = 0;
      for (let i = 0; i < 100; i++) {
        try {
          accepted.push((await sink.publishRecord(inspection(i)))!);
        } catch (err) {
          expect(err).toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(/^the event spool is full .*set spool.whenFull to "drop-oldest"$/) });
          rejected++;
        }
      }
      expect(rejected).toBeGreaterThan(0);
      expect(accepted.length + rejected).toBe(100);
      return { sink, expected: accepted, absent: [] as string[] };
    });
  });

  test('spool full, drop-oldest: the oldest events are dropped and counted, the newest delivered', async () => {
    await withBrokerDown(async () => {
      const log = recordingLogger();
      const sink = await MqttSink.create({ url: broker.url, ...creds, line: 'l7', station: 's1', camera: 'c1', spool: { dir: spoolDir(), maxBytes: 20_000, whenFull: 'drop-oldest' }, logger: log, ...fast });
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push((await sink.publishRecord(inspection(i)))!);
      const { dropped, spooled } = sink.status();
      expect(dropped).toBeGreaterThan(0);
      expect(dropped + spooled).toBe(100);
      expect(log.lines.some((l) => l.level === 'warn' && /dropped the oldest events \(policy drop-oldest\)/.test(l.msg))).toBe(true);
      return { sink, expected: ids.slice(dropped), absent: ids.slice(0, dropped) };
    });
  });

  async function withBrokerDown(run: () => Promise<{ sink: MqttSink; expected: string[]; absent: string[] }>): Promise<void> {
    // Persistent session, saved by the clean shutdown: the subscriber gets what the sink sends before it is back.
    const sub = await collect(broker.url, 'mmaerec/#', { ...creds, clientId: `full-watcher-${++n}`, clean: false });
    await broker.stop();
    const { sink, expected, absent } = await run();
    await broker.start();
    await sink.drain(15_000);
    await sub.waitFor(() => expected.every((id) => sub.counts.has(id)), 5000, 'accepted events');
    expect(absent.filter((id) => sub.counts.has(id))).toEqual([]);
    await sink.close();
    await sub.end();
  }
});

describe('MqttSink configuration errors (no broker needed)', () => {
  const base = { url: 'mqtt://127.0.0.1:1', line: 'l', station: 's', camera: 'c', spool: { kind: 'memory' as const } };
  test.each([
    [{ url: 'broker.local:1883' }, 'mqtt.url "broker.local:1883" is not a broker URL: use mqtt://host:1883 (plain) or mqtts://host:8883 (TLS)'],
    [{ qos: 0 }, 'mqtt.qos 0 is not supported: use 1 (default) or 2 (QoS 0 is never acknowledged, so the spool could not know that an event arrived)'],
    [{ protocol: '3' }, 'mqtt.protocol "3" is not a supported MQTT version: use "5" (default) or "3.1.1"'],
    [{ url: 'mqtts://127.0.0.1:8883', tls: { ca: '/nonexistent/ca.pem' } }, 'mqtt.tls.ca: cannot read "/nonexistent/ca.pem" (ENOENT): give the path of the broker\'s CA certificate (PEM)'],
    [{ pasword: 'x' }, 'mqtt: unknown option "pasword": remove it or fix its spelling (did you mean "password"?)'],
    [{ spool: { kind: 'disk' } }, 'mqtt.spool.dir is missing: give a directory on persistent storage for unacknowledged events (or spool.kind "memory" to accept losing them on restart)'],
    [{ station: 'a/b' }, 'mqtt.station "a/b" cannot be part of an MQTT topic: use a non-empty id without "/", "+" or "#"'],
    [{ topics: { heatmap: 'x/{line}/img' } }, 'mqtt.topics.heatmap must contain {eventId} so each image has its own topic: use a topic such as "mmaerec/{line}/{station}/heatmap/{eventId}"'],
  ])('%j → one line naming the field and the fix', async (override, message) => {
    const err = await MqttSink.create({ ...base, ...override } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CONFIG', message });
    expect((err as Error).message).not.toContain('\n');
  });

  test('a URL with credentials is redacted in errors and logs', async () => {
    const err = await MqttSink.create({ ...base, url: 'mqtt://user:hunter2@' } as never).catch((e: unknown) => e);
    expect((err as Error).message).toContain('mqtt://***@');
    expect((err as Error).message).not.toContain('hunter2');
  });
});
