import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from './collector.js';
import { inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needs } from '../helpers/require-tool.js';

needs(noMosquitto).describe('MqttSink heartbeats and a broker that denies a topic', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    // Station "acl" may publish under mmaerec/allowed/# only (Mosquitto 2.0 drops the connection otherwise).
    broker = await startMosquitto({ users: { acl: 'pw', watcher: 'pw' } });
    writeFileSync(join(broker.dir, 'acl'), 'user acl\ntopic write mmaerec/allowed/#\nuser watcher\ntopic read mmaerec/#\n');
    writeFileSync(join(broker.dir, 'mosquitto.conf'), `acl_file ${join(broker.dir, 'acl')}\n`, { flag: 'a' });
    await broker.stop();
    await broker.start();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  test('heartbeats: retained status events with spool and delivery counters', async () => {
    const sub = await collect(broker.url, 'mmaerec/allowed/s1/status', { username: 'watcher', password: 'pw' });
    const sink = await MqttSink.create({ url: broker.url, username: 'acl', password: 'pw', line: 'allowed', station: 's1', camera: 'c1', heartbeatMs: 100, spool: { kind: 'memory' }, logger: recordingLogger() });
    await sink.write(inspection(1));
    await sink.drain(5000);
    const beats = () => [...sub.events.values()].filter((e) => e.schema === 'mmaerec.status/1' && e.reason === 'heartbeat');
    await sub.waitFor(() => beats().some((b) => (b as { delivered?: number }).delivered === 1), 5000, 'a heartbeat after the delivery');
    expect(beats().at(-1)).toMatchObject({ state: 'online', clientId: 'mmaerec-allowed-s1-c1', spool: { entries: 0, dropped: 0 }, delivered: 1 });
    await sink.close();
    await sub.end();
  });

  test('a topic the broker denies (Mosquitto drops the connection): clear E_BROKER, event stays spooled, reconnects back off', async () => {
    const sink = await MqttSink.create({ url: broker.url, username: 'acl', password: 'pw', line: 'forbidden', station: 's1', camera: 'c1', spool: { kind: 'memory' }, logger: recordingLogger(), reconnect: { initialMs: 100, maxMs: 5000, factor: 2 } });
    let connects = 0;
    sink.on('connect', () => connects++);
    const errors: Error[] = [];
    sink.on('broker-error', (e: Error) => errors.push(e));
    await sink.write(inspection(1));
    await new Promise((r) => setTimeout(r, 2500));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.find((e) => /closed the connection/.test(e.message))).toMatchObject({
      code: 'E_BROKER',
      message: expect.stringMatching(new RegExp(`^the MQTT broker at ${broker.url} closed the connection \\d+ ms after accepting it, with 1 events unacknowledged .*Mosquitto disconnects on an ACL denial\\): check the broker log and its access rules for the mqtt.topics; events stay spooled and are retried with backoff$`)),
    });
    // 100, 200, 400, 800 ms (±jitter) …: a handful of attempts in 2.5 s, not one every few ms.
    expect(connects).toBeGreaterThanOrEqual(2);
    expect(connects).toBeLessThanOrEqual(6);
    expect(sink.status()).toMatchObject({ spooled: 1, delivered: 0 });
    await sink.close();
  });
});
