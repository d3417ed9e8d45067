import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { createSpool } from '../../src/publish/spool/store.js';
import { recordingLogger } from './recording-logger.js';

describe('MqttSink.drain with a spool entry it cannot decode', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  test('resolves once the unknown entry is dropped and the spool is empty (no wait for the timeout)', async () => {
    const logger = recordingLogger();
    const spool = await createSpool({ kind: 'memory', logger });
    await spool.put(Buffer.from([9, 9, 9, 9, 9, 9])); // version 9: written by a "newer SDK"
    const sink = await MqttSink.create({ url: broker.url, protocol: '3.1.1', line: 'l', station: 's', camera: 'c', spoolStore: spool, logger });
    await sink.drain(3000); // the sink is still connecting: drain has to wait for the publisher to drop the entry
    expect(sink.status().spooled).toBe(0);
    expect(logger.text()).toContain('unknown format dropped');
    await sink.close();
  });
});
