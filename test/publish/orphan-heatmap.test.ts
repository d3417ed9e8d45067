import { describe, expect, test } from 'vitest';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { createSpool } from '../../src/publish/spool/store.js';
import { inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';

describe('MqttSink when the spool takes the heatmap image but refuses its event', () => {
  test('the image is withdrawn too: the caller gets E_SPOOL and nothing is left spooled', async () => {
    const logger = recordingLogger();
    // Room for the 300-byte image message (5 + topic "mmaerec/l/s/heatmap/<ulid>" + 300 = 351 bytes), not for the event.
    const spool = await createSpool({ kind: 'memory', maxBytes: 360, logger });
    const sink = await MqttSink.create({ url: 'mqtt://127.0.0.1:1', line: 'l', station: 's', camera: 'c', spoolStore: spool, logger, heatmap: { maxBytes: 1000 } });
    await expect(sink.publishRecord(inspection(1, 'defect', 300))).rejects.toMatchObject({ code: 'E_SPOOL' });
    expect(sink.status().spooled).toBe(0);
    expect(spool.stats().bytes).toBe(0);
    await sink.close();
  });
});
