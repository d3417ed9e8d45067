import { spawn } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, test } from 'vitest';
import { startEmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { errorRecord, inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('examples/subscriber.ts', () => {
  test('validates, deduplicates by id, counts, and exits after --count with a JSON summary', async () => {
    const broker = await startEmbeddedBroker();
    const subscribed = new Promise<void>((r) => broker.aedes.on('subscribe', () => r()));
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/subscriber.ts', '--broker', broker.url, '--topic', 'mmaerec/ex/#', '--protocol', '3.1.1', '--count', '100', '--timeout', '30', '--quiet', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await subscribed;

    let firstPayload: Buffer | undefined;
    broker.aedes.on('publish', (packet) => {
      if (!firstPayload && packet.topic === 'mmaerec/ex/s1/defect') firstPayload = Buffer.from(packet.payload as Buffer);
    });
    const sink = await MqttSink.create({ url: broker.url, protocol: '3.1.1', line: 'ex', station: 's1', camera: 'c1', publish: 'all', spool: { kind: 'memory' }, logger: recordingLogger() });
    for (let i = 0; i < 99; i++) await sink.write(i === 5 ? errorRecord(i) : inspection(i, i % 3 ? 'ok' : 'defect', i === 3 ? 100 : 0));
    await sink.drain(10_000);
    // A replayed event (same id) and a message that is not a valid event.
    const raw = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await raw.publishAsync('mmaerec/ex/s1/defect', firstPayload!, { qos: 1 });
    await raw.publishAsync('mmaerec/ex/s1/defect', '{"schema":"mmaerec.inspection/1","id":"nope"}', { qos: 1 });
    await raw.endAsync();
    await new Promise((r) => setTimeout(r, 200));
    await sink.write(inspection(99, 'defect'));
    expect(await exited, stderr).toBe(0);
    await sink.close();
    await broker.close();

    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!).summary;
    expect(summary).toMatchObject({ events: 100, duplicates: 1, invalid: 1, heatmaps: 1, defects: 34, ok: 65, errors: 1 });
    expect(summary.firstInvalid).toMatch(/^mmaerec\/ex\/s1\/defect: /);
    expect(summary.status['ex/s1/c1']).toBe('online (birth)');
  });

  test('bad flags are one-line errors', async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', 'examples/subscriber.ts', ...args], { cwd: ROOT });
        let stderr = '';
        c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('exit', (code) => resolve({ code, stderr }));
      });
    expect(await run()).toEqual({ code: 1, stderr: 'subscriber: --broker is missing: give the broker URL, e.g. --broker mqtt://127.0.0.1:1883\n' });
    expect(await run('--broker', 'mqtt://127.0.0.1:1', '--count', '0')).toEqual({ code: 1, stderr: 'subscriber: --count 0 is invalid: give a positive whole number\n' });
  });
});
