import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { collect } from './collector.js';
import { inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';

describe('aedes embedded broker (MQTT 3.1.1)', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  test('listens on a free 127.0.0.1 port; a 3.1.1 sink delivers every event with heatmaps', async () => {
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const sub = await collect(broker.url, 'mmaerec/demo/#');
    const sink = await MqttSink.create({ url: broker.url, protocol: '3.1.1', line: 'demo', station: 's1', camera: 'c1', publish: 'all', spool: { kind: 'memory' }, logger: recordingLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) ids.push((await sink.publishRecord(inspection(i, i % 2 ? 'ok' : 'defect', i === 4 ? 300 : 0)))!);
    await sink.drain(10_000);
    await sub.waitFor(() => ids.every((id) => sub.counts.has(id)) && sub.binary.size === 1, 5000, 'all ids and the heatmap');
    expect(sub.invalid).toEqual([]);
    await sink.close();
    await sub.end();
  });

  test('an MQTT 5 sink gets a clear E_BROKER error telling it to use 3.1.1', async () => {
    const sink = await MqttSink.create({ url: broker.url, line: 'demo', station: 's2', camera: 'c1', spool: { kind: 'memory' }, logger: recordingLogger(), reconnect: { initialMs: 1000, maxMs: 1000, factor: 1 } });
    const err = await new Promise<Error>((r) => sink.once('broker-error', r));
    expect(err).toMatchObject({ code: 'E_BROKER' });
    expect(err.message).toMatch(/^the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ does not speak MQTT 5 \(CONNACK (1|132)\): set mqtt.protocol to "3.1.1"/);
    await sink.close();
  });

  test('close() stops listening; a second close is harmless', async () => {
    const other = await startEmbeddedBroker();
    await other.close();
    await other.close();
    const sink = await MqttSink.create({ url: other.url, protocol: '3.1.1', line: 'demo', station: 's3', camera: 'c1', spool: { kind: 'memory' }, logger: recordingLogger(), reconnect: { initialMs: 1000, maxMs: 1000, factor: 1 } });
    const err = await new Promise<Error>((r) => sink.once('broker-error', r));
    expect(err.message).toMatch(/^cannot reach the MQTT broker at .* \(ECONNREFUSED\)/);
    await sink.close();
  });
});
