/**
 * Sustained MQTT publishing throughput with the durable spool on: events/s from `sink.write()` to a subscriber,
 * QoS 1, and the loss count (accepted events that never reached the subscriber).
 *
 *   npm run bench:mqtt -- [--events 50000] [--concurrency 32] [--fsync interval|always|never] [--protocol 5|3.1.1]
 *
 * Starts a private Mosquitto (max_queued_messages 0, so the broker itself drops nothing), a subscriber
 * (mosquitto_sub, in its own process), and an MqttSink with a disk spool in a temporary directory. `--concurrency` is how many writes are outstanding at once
 * (1 = one camera awaiting each write). Rates: into the spool (all writes resolved), acknowledged (spool empty),
 * and end to end (first write → mosquitto_sub's last write of a received event).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { MqttSink } from '../src/publish/mqtt-sink.js';
import { silentLogger } from '../src/publish/logger.js';
import type { InspectionResult } from '../src/decide/result.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';

const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';

/** Waits until the broker log shows the subscriber's SUBSCRIBE (mosquitto_sub has no "ready" signal). */
async function waitForSubscription(broker: Mosquitto): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/bench-sub 1 mmaerec\/bench/.test(broker.log())) {
    if (Date.now() > deadline) throw new Error('mosquitto_sub did not subscribe within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

if (!existsSync(MOSQUITTO_SUB)) {
  process.stderr.write(`bench:mqtt needs ${MOSQUITTO_SUB} (Debian package mosquitto-clients): apt-get install mosquitto-clients\n`);
  process.exit(1);
}
const broker = await startMosquitto({ extra: ['log_type subscribe'] });
const dir = mkdtempSync(join(tmpdir(), 'mmaerec-bench-mqtt-'));
try {
  // The subscriber is mosquitto_sub in its own process (as on a real network, it does not share this process's
  // CPU); its output goes to a file that is read after the sink has drained.
  const outFile = join(dir, 'received.txt');
  const out = openSync(outFile, 'w');
  const sub = spawn(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'mmaerec/bench/+/defect', '-q', '1', '-V', 'mqttv5', '-i', 'bench-sub'], { stdio: ['ignore', out, 'inherit'] });
  await waitForSubscription(broker);
  const sink = await MqttSink.create({
    url: broker.url, protocol: values.protocol as '5' | '3.1.1', line: 'bench', station: 's1', camera: 'c1', heartbeatMs: 0,
    spool: { dir, fsync }, logger: silentLogger,
  });
  await new Promise<void>((r) => sink.once('connect', () => r()));

  const accepted: string[] = new Array(total);
  let next = 0;
  const start = performance.now();
  const startWall = Date.now();
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
  // Read what mosquitto_sub wrote so far, incrementally, until every event is there (or 30 s passed).
  const received = new Map<string, number>();
  const reader = openSync(outFile, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let position = 0;
  let tail = '';
  const deadline = Date.now() + 30_000;
  while (received.size < total && Date.now() < deadline) {
    const n = readSync(reader, chunk, 0, chunk.length, position);
    if (n === 0) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    position += n;
    const lines = (tail + chunk.toString('latin1', 0, n)).split('\n');
    tail = lines.pop()!;
    for (const line of lines) {
      const id = /"id":"([0-9A-Z]{26})"/.exec(line)?.[1];
      if (id) received.set(id, (received.get(id) ?? 0) + 1);
    }
  }
  closeSync(reader);
  const lost = accepted.filter((id) => !received.has(id)).length;
  const duplicates = [...received.values()].filter((c) => c > 1).length;
  await sink.close();
  sub.kill('SIGTERM');
  closeSync(out);

  // The subscriber's last write to its output file is when the last event arrived.
  const seconds = (statSync(outFile).mtimeMs - startWall) / 1000;
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
