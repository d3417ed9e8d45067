import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { nativeStatus, scoringEngine } from '../../src/native.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { startEmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { inspectionEventSchema, statusEventSchema, toEvent } from '../../src/publish/events.js';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { collect } from '../publish/collector.js';
import { FakeBackend, gradientPng, tinyBundle } from './helpers.js';
import { runCli, writeCliEntry, type CliResult } from '../helpers/cli.js';

// Issue 15, item 13: the scoring engine is in every result's provenance and in status heartbeats, and `run`
// refuses to start without the native core unless told otherwise.

const ROOT = path.resolve(import.meta.dirname, '../..');
const NATIVE = /^(native-cpu|cuda)$/;

let dir: string;
let entry: string;
let bundle: LoadedBundle;
let png: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-engine-'));
  entry = await writeCliEntry(dir);
  bundle = await tinyBundle(path.join(dir, 'bundle'));
  png = path.join(dir, 'a.png');
  await writeFile(png, await gradientPng(40, 40));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCli(entry, args, { env: { ...process.env, ...env } });
}

describe('results carry the scoring engine', () => {
  it('in the provenance of a result and of its wire event (the addon is built here)', async () => {
    expect(nativeStatus().loaded).toBe(true);
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32) });
    try {
      const result = await inspector.inspect({ id: 'f', capturedAt: 1, image: await gradientPng(40, 40) });
      expect(result.model.scoringEngine).toMatch(NATIVE);
      expect(result.model.scoringEngine).toBe(scoringEngine());
      const event = inspectionEventSchema.parse(toEvent(result, { line: 'l', station: 's', camera: 'c' }));
      expect(event.model.scoringEngine).toBe(result.model.scoringEngine);
    } finally {
      await inspector.close();
    }
  });

  it('the event schema refuses an unknown engine', () => {
    const bad = { bundleName: 'b', bundleSha256: 'a'.repeat(64), backend: 'x', scoringEngine: 'gpu-magic' };
    expect(inspectionEventSchema.shape.model.safeParse(bad).success).toBe(false);
  });

  it('MMAEREC_NATIVE=0 inspect: records say typescript, and inspect prints the engine it used', async () => {
    const r = await cli(['inspect', '--json', '--model', bundle.dir, png], { MMAEREC_NATIVE: '0' });
    expect([0, 2], r.stderr).toContain(r.code); // ok or defect: the tiny bundle is untrained
    expect(JSON.parse(r.stdout.trim()).model.scoringEngine).toBe('typescript');
    expect(r.stderr).toContain(`scoring engine: typescript (TypeScript fallback, ≈ 5–50× slower: run \`npm run build:native\` in ${ROOT} (needs a C++ compiler))\n`);
    const native = await cli(['inspect', '--json', bundle.dir, png], {});
    expect(JSON.parse(native.stdout.trim()).model.scoringEngine).toMatch(NATIVE);
    expect(native.stderr).toMatch(/^scoring engine: (native-cpu|cuda)$/m);
  });
});

describe('run without the native core', () => {
  const config = (extra: Record<string, unknown> = {}) => ({
    model: bundle.dir,
    source: { type: 'files', path: png },
    sinks: [{ type: 'jsonl', path: path.join(dir, 'out.jsonl') }],
    metrics: { summaryIntervalS: 0 },
    ...extra,
  });

  it('refuses to start by default: one E_NATIVE line naming the fix', async () => {
    const file = path.join(dir, 'run.yaml');
    await writeFile(file, stringifyYaml(config()));
    const r = await cli(['run', '--config', file], { MMAEREC_NATIVE: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `mmaerec-edge: the native scoring core is not loaded (disabled by MMAEREC_NATIVE=0) and backend.requireNativeScoring is true: run \`npm run build:native\` in ${ROOT} (needs a C++ compiler), or set backend.requireNativeScoring: false to accept the TypeScript fallback (≈ 5–50× slower)\n`,
    );
    const check = await cli(['run', '--check', '--config', file], { MMAEREC_NATIVE: '0' });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('backend.requireNativeScoring is true: run `npm run build:native`');
  });

  it('with backend.requireNativeScoring: false it runs, and each record says typescript', async () => {
    const file = path.join(dir, 'run-ts.yaml');
    await writeFile(file, stringifyYaml(config({ backend: { requireNativeScoring: false }, sinks: [{ type: 'jsonl', path: path.join(dir, 'ts.jsonl') }] })));
    const r = await cli(['run', '--config', file], { MMAEREC_NATIVE: '0' });
    expect(r.code, r.stderr).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const records = (await readFile(path.join(dir, 'ts.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => [x.kind, x.model.scoringEngine])).toEqual([['inspection', 'typescript']]);
  });
});

describe('status heartbeats carry the scoring engine', () => {
  it('heartbeat events name it (embedded aedes broker, MQTT 3.1.1)', async () => {
    const broker = await startEmbeddedBroker();
    try {
      const sub = await collect(broker.url, 'mmaerec/l/s/status');
      const sink = await MqttSink.create({ url: broker.url, line: 'l', station: 's', camera: 'c', protocol: '3.1.1', heartbeatMs: 50, spool: { kind: 'memory' } });
      const beats = () => [...sub.events.values()].filter((e) => e.schema === 'mmaerec.status/1' && (e as { reason?: string }).reason === 'heartbeat');
      await sub.waitFor(() => beats().length > 0, 5000, 'a heartbeat');
      const beat = statusEventSchema.parse(beats()[0]);
      expect(beat.scoringEngine).toBe(scoringEngine());
      expect(beat.scoringEngine).toMatch(NATIVE);
      await sink.close();
      await sub.end();
    } finally {
      await broker.close();
    }
  });
});
