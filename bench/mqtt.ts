/**
 * Sustained MQTT publishing throughput with the durable spool on: events/s from `sink.write()` to a subscriber,
 * QoS 1, and the loss count (accepted events that never reached the subscriber).
 *
 *   npm run bench:mqtt -- [--events 50000] [--concurrency 32] [--fsync interval|always|never] [--protocol 5|3.1.1]
 *
 * Starts a private Mosquitto (max_queued_messages 0, so the broker itself drops nothing), a subscriber, and an
 * MqttSink with a disk spool in a temporary directory. `--concurrency` is how many writes are outstanding at once
 * (1 = one camera awaiting each write). Rates are measured end to end: first write → last event received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { MqttSink } from '../src/publish/mqtt-sink.js';
import { silentLogger } from '../src/publish/logger.js';
import type { InspectionResult } from '../src/decide/result.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '32' },
    fsync: { type: 'string', default: 'interval' },
    protocol: { type: 'string', default: '5' },
  },
});
const total = Number(values.events);
const concurrency = Number(values.concurrency);
const fsync = values.fsync as 'always' | 'interval' | 'never';

function record(n: number): InspectionResult {
  const t = Date.now();
  return {
    kind: 'inspection', frameId: `frame-${n}`, capturedAt: t, finishedAt: t + 10, score: 0.9, imageThreshold: 0.5, pixelThreshold: 0.4,
    verdict: 'defect', regions: [{ x: 1, y: 2, width: 30, height: 40, area: 900, maxScore: 0.95, meanScore: 0.7 }],
    latency: { decodeMs: 1, preprocessMs: 2, inferMs: 5, scoreMs: 3, totalMs: 11 },
    model: { bundleName: 'bench', bundleSha256: 'a'.repeat(64), backend: 'onnxruntime-cpu' },
  };
}

const broker = await startMosquitto();
const dir = mkdtempSync(join(tmpdir(), 'mmaerec-bench-mqtt-'));
try {
  const received = new Map<string, number>();
  let lastReceivedAt = 0;
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  sub.on('message', (_topic, payload) => {
    const id = /"id":"([0-9A-Z]{26})"/.exec(payload.toString('latin1'))?.[1];
    if (!id) return;
    received.set(id, (received.get(id) ?? 0) + 1);
    lastReceivedAt = performance.now();
  });
  await sub.subscribeAsync('mmaerec/bench/+/defect', { qos: 1 });

  const sink = await MqttSink.create({
    url: broker.url, protocol: values.protocol as '5' | '3.1.1', line: 'bench', station: 's1', camera: 'c1', heartbeatMs: 0,
    spool: { dir, fsync }, logger: silentLogger,
  });
  await new Promise<void>((r) => sink.once('connect', () => r()));

  const accepted: string[] = new Array(total);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        accepted[i] = (await sink.publishRecord(record(i)))!;
      }
    }),
  );
  const spooledAt = performance.now();
  await sink.drain(120_000);
  const ackedAt = performance.now();
  const deadline = Date.now() + 10_000;
  while (received.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const lost = accepted.filter((id) => !received.has(id)).length;
  const duplicates = [...received.values()].filter((c) => c > 1).length;
  await sink.close();
  await sub.endAsync();

  const seconds = (lastReceivedAt - start) / 1000;
  const result = {
    events: total, concurrency, fsync, protocol: values.protocol, qos: 1,
    acceptedPerS: Math.round(total / ((spooledAt - start) / 1000)),
    ackedPerS: Math.round(total / ((ackedAt - start) / 1000)),
    endToEndPerS: Math.round(total / seconds),
    lost, duplicates,
    machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version}`,
  };
  process.stdout.write(
    `mqtt: ${total} events, fsync ${fsync}, concurrency ${concurrency}, QoS 1, MQTT ${values.protocol}: ` +
      `${result.endToEndPerS} events/s end to end (${result.acceptedPerS}/s into the spool, ${result.ackedPerS}/s acknowledged), ` +
      `${lost} lost, ${duplicates} duplicates\n${JSON.stringify(result)}\n`,
  );
  if (lost > 0) process.exitCode = 1;
} finally {
  await broker.dispose();
  rmSync(dir, { recursive: true, force: true });
}
