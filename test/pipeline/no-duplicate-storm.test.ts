import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { freePort, noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from '../publish/collector.js';
import { errorRecord } from '../publish/fixtures/records.js';
import { silentLogger } from '../../src/publish/logger.js';
import { tinyBundle } from './helpers.js';
import { needs } from '../helpers/require-tool.js';
import { runCli, writeCliEntry, type CliResult } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function cli(entry: string, args: string[]): Promise<CliResult> {
  return runCli(entry, args);
}

/**
 * Issue 15, item 11: a `run` whose source fails at once (no file matches) used to open the MQTT sink anyway,
 * hand up to 256 spooled events to the broker and close ~100 ms later without their acknowledgements, so every
 * restart delivered them again (375 duplicates over 4 restarts) while the spool barely shrank.
 */
needs(noMosquitto).describe('run with a source that fails at once', () => {
  let dir: string;
  let entry: string;
  let bundle: LoadedBundle;
  let broker: Mosquitto;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-storm-'));
    entry = await writeCliEntry(dir);
    bundle = await tinyBundle(path.join(dir, 'bundle'));
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** 300 events left in the spool by an earlier run whose broker was down. */
  async function spoolOf300(spool: string): Promise<Set<string>> {
    const offline = await MqttSink.create({ url: `mqtt://127.0.0.1:${await freePort()}`, line: 'l1', station: 's1', camera: 'c1', spool: { dir: spool }, logger: silentLogger });
    const ids = new Set<string>();
    for (let i = 0; i < 300; i++) ids.add((await offline.publishRecord(errorRecord(i)))!);
    await offline.close();
    return ids;
  }

  /** Opens the spool once more, lets it drain, and closes it. */
  async function drainSpool(spool: string): Promise<void> {
    const sink = await MqttSink.create({ url: broker.url, line: 'l1', station: 's1', camera: 'c1', spool: { dir: spool }, logger: silentLogger });
    await sink.drain(20_000);
    await sink.close();
  }

  const total = (counts: Map<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

  it('a sink closed right after it connected delivers no event twice (in-flight acknowledgements are recorded)', async () => {
    const spool = path.join(dir, 'spool-sink');
    const ids = await spoolOf300(spool);
    const sub = await collect(broker.url, 'mmaerec/l1/s1/error');
    for (let i = 0; i < 4; i++) {
      const sink = await MqttSink.create({ url: broker.url, line: 'l1', station: 's1', camera: 'c1', spool: { dir: spool }, logger: silentLogger });
      await new Promise<void>((resolve) => sink.once('connect', () => resolve()));
      await sink.close(); // what startRun does when the source fails just after the sink connected
    }
    await drainSpool(spool);
    await sub.waitFor(() => sub.counts.size >= 300, 10_000, '300 events');
    await new Promise((r) => setTimeout(r, 300));
    await sub.end();
    expect(new Set(sub.counts.keys())).toEqual(ids);
    expect(total(sub.counts)).toBe(300);
  }, 60_000);

  it('publishes no spooled event more than once over 4 failed starts', async () => {
    const spool = path.join(dir, 'spool');
    const ids = await spoolOf300(spool);

    const sub = await collect(broker.url, 'mmaerec/l1/s1/error');
    const config = path.join(dir, 'line.yaml');
    await writeFile(config, [
      `model: ${bundle.dir}`,
      'source: { type: files, path: "no-such-folder/*.png" }',
      `sinks: [{ type: mqtt, url: "${broker.url}", line: l1, station: s1, camera: c1, spool: { dir: "${spool}" } }]`,
      'metrics: { summaryIntervalS: 0 }',
    ].join('\n'));
    for (let i = 0; i < 4; i++) {
      const { code, stderr } = await cli(entry, ['run', '--config', config]);
      expect(code, stderr).toBe(1);
      expect(stderr).toContain('no file matches');
    }
    await new Promise((r) => setTimeout(r, 300)); // anything still on its way to the subscriber
    const afterFailedStarts = total(sub.counts);
    expect(afterFailedStarts - sub.counts.size, 'duplicate deliveries over the failed starts').toBe(0);
    // Whatever the failed starts did not deliver is still spooled, and nothing they delivered comes again.
    await drainSpool(spool);
    await sub.waitFor(() => sub.counts.size >= 300, 10_000, '300 events');
    await new Promise((r) => setTimeout(r, 300));
    await sub.end();
    expect(new Set(sub.counts.keys())).toEqual(ids);
    expect(total(sub.counts)).toBe(300);
  }, 120_000);
});
