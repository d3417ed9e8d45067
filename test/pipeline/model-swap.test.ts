import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseRunConfig } from '../../src/config/load.js';
import type { InspectionEvent, ModelEvent } from '../../src/publish/events.js';
import { startRun } from '../../src/pipeline/from-config.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { needs } from '../helpers/require-tool.js';
import { collect } from '../publish/collector.js';
import { gradientPng } from './helpers.js';

const FRAMES = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bundle(dir: string, name: string, seed: number): Promise<LoadedBundle> {
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
  return writeBundle(dir, await createBundle({ config, seed, name, thresholds: { image: 0.5, pixel: 0.5, source: 'test' } }));
}

/**
 * A model swapped in the middle of a two-camera stream, checked where a plant sees it: at a real MQTT subscriber.
 * Frames keep arriving while a new bundle appears in swap.watch and while a tampered one is commanded over MQTT.
 */
needs(noMosquitto).describe('model swap while frames flow', () => {
  let broker: Mosquitto;
  let dir: string;
  let a: LoadedBundle;
  let b: LoadedBundle;
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'mmaerec-swap-'));
    a = await bundle(join(dir, 'a'), 'line-v1', 1);
    b = await bundle(join(dir, 'staging', 'v2'), 'line-v2', 2);
    // The tampered candidate: v2's manifest (so the same sha256 a command would name), weights changed after.
    cpSync(join(dir, 'staging', 'v2'), join(dir, 'tampered'), { recursive: true });
    appendFileSync(join(dir, 'tampered', 'weights.safetensors'), Buffer.from([0]));
    for (const d of ['top', 'side', 'watch']) mkdirSync(join(dir, d));
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no frame lost or duplicated, every event names its bundle, a tampered candidate is refused', async () => {
    const sub = await collect(broker.url, 'mmaerec/#');
    const config = parseRunConfig({
      model: join(dir, 'a'),
      backend: { name: 'onnxruntime', threads: 1 },
      sources: ['top', 'side'].map((id) => ({ id, capture: { type: 'files', path: join(dir, id), watch: true, pollMs: 20, stableMs: 0, includeExisting: true } })),
      sinks: [{ type: 'mqtt', url: broker.url, line: 'L1', station: 'S3', camera: 'cell', publish: 'all', spool: { kind: 'memory' }, heartbeatMs: 0 }],
      swap: { watch: join(dir, 'watch'), pollS: 0.05, commands: true, shadowFrames: 2, minAgreement: 0 },
      metrics: { summaryIntervalS: 0 },
      logging: { level: 'silent' },
    });
    const run = await startRun(config);
    const png = await gradientPng(40, 40);
    const command = sub.client;
    const events = () => [...sub.events.values()];
    const inspections = () => events().filter((e): e is InspectionEvent => e.schema === 'mmaerec.inspection/1');
    const models = () => events().filter((e): e is ModelEvent => e.schema === 'mmaerec.model/1');
    for (let i = 0; i < FRAMES; i++) {
      for (const cam of ['top', 'side']) writeFileSync(join(dir, cam, `f${String(i).padStart(2, '0')}.png`), png);
      if (i === 10) renameSync(join(dir, 'staging', 'v2'), join(dir, 'watch', 'v2')); // appears whole
      // Frames 11–15 arrive while the candidate loads; then wait for the swap, so that (on a slow machine too) the
      // later frames are surely the new model's and the swap lands inside the stream.
      if (i === 15) await sub.waitFor(() => models().some((e) => e.outcome === 'swapped'), 60_000, 'the swap');
      if (i === 20) await command.publishAsync('mmaerec/L1/S3/model/command', JSON.stringify({ path: join(dir, 'tampered'), sha256: b.sha256 }), { qos: 1 });
      await sleep(60);
    }
    await sub.waitFor(() => inspections().length >= 2 * FRAMES && models().length >= 2, 60_000, 'every frame and both model events');
    run.stop();
    await run.done;
    await sleep(200); // anything published late would show up as a duplicate below
    await sub.end();

    // The subscriber hears the command it sent itself (not an event); everything else is a valid event.
    expect(sub.invalid.filter((i) => !i.startsWith('mmaerec/L1/S3/model/command:'))).toEqual([]);
    for (const cam of ['top', 'side']) {
      const mine = inspections().filter((e) => e.camera === cam).sort((x, y) => x.frameId.localeCompare(y.frameId));
      // Counted by frame id: each of the 30 frames exactly once (distinct event ids; a QoS 1 redelivery shares its id).
      expect(mine.map((e) => e.frameId)).toEqual(Array.from({ length: FRAMES }, (_, i) => `f${String(i).padStart(2, '0')}.png`));
      // Every event names the bundle that produced it: v1 up to the swap, v2 from then on, never back.
      const shas = mine.map((e) => e.model.bundleSha256);
      const firstB = shas.indexOf(b.sha256);
      expect(firstB).toBeGreaterThan(0);
      expect(shas.slice(0, firstB).every((s) => s === a.sha256)).toBe(true);
      expect(shas.slice(firstB).every((s) => s === b.sha256)).toBe(true);
      expect(mine[firstB]!.model.bundleName).toBe('line-v2');
    }
    const [swapped, refused] = models().sort((x, y) => x.at.localeCompare(y.at));
    expect(swapped).toMatchObject({ outcome: 'swapped', trigger: 'watch', line: 'L1', station: 'S3', candidate: { path: join(dir, 'watch', 'v2'), bundleSha256: b.sha256 }, inService: { bundleName: 'line-v2', bundleSha256: b.sha256 }, shadow: { frames: 4 } });
    expect(refused).toMatchObject({ outcome: 'refused', trigger: 'command', candidate: { path: join(dir, 'tampered') }, inService: { bundleSha256: b.sha256 } });
    expect(refused!.reason).toMatch(/weights\.safetensors/);
  }, 120_000);
});
