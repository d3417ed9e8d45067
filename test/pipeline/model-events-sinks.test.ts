import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseRunConfig } from '../../src/config/load.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { startRun } from '../../src/pipeline/from-config.js';
import type { ModelEventBody } from '../../src/publish/events.js';
import { JsonlSink } from '../../src/publish/jsonl-sink.js';
import { StdoutSink } from '../../src/publish/stdout-sink.js';
import { errorRecord, inspection } from '../publish/fixtures/records.js';
import { gradientPng } from './helpers.js';

// mmaerec.model/1 outcomes reach every built-in sink, not only MQTT: JSON lines and stdout write them as a line among
// the records, so a file shows which bundle judged which frames.

const swapped: ModelEventBody = {
  at: '2026-12-04T10:00:00.000Z', outcome: 'swapped', trigger: 'watch',
  candidate: { path: '/models/incoming/v2', bundleName: 'line-v2', bundleSha256: 'b'.repeat(64) },
  inService: { bundleName: 'line-v2', bundleSha256: 'b'.repeat(64) }, shadow: { frames: 8, agreement: 0.875 },
};
const refused: ModelEventBody = {
  at: '2026-12-04T10:05:00.000Z', outcome: 'refused', trigger: 'command', candidate: { path: '/tmp/v3' },
  inService: { bundleName: 'line-v2', bundleSha256: 'b'.repeat(64) }, reason: '/tmp/v3/manifest.json is missing: pass a bundle directory',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmaerec-model-lines-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const linesOf = (file: string): Record<string, unknown>[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

describe('model events in the JSON-lines and stdout sinks', () => {
  test('JsonlSink writes each outcome as a `kind: "model"` line, in order with the records', async () => {
    const file = join(dir, 'unit.jsonl');
    const sink = new JsonlSink({ path: file });
    await Promise.all([sink.write(inspection(1)), sink.announce(swapped), sink.write(errorRecord(2)), sink.announce(refused)]);
    await sink.close();
    const lines = linesOf(file);
    expect(lines.map((l) => l.kind)).toEqual(['inspection', 'model', 'error', 'model']);
    expect(lines[1]).toEqual({ kind: 'model', ...swapped });
    expect(lines[3]).toEqual({ kind: 'model', ...refused });
    await expect(sink.announce(swapped)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/write after close/) });
  });

  test('StdoutSink prints them as JSON lines, or as MODEL lines in text', async () => {
    const out = (format: 'json' | 'text') => {
      const chunks: string[] = [];
      const stream = new PassThrough();
      stream.on('data', (c: Buffer) => chunks.push(c.toString()));
      return { sink: new StdoutSink({ stream, format }), text: () => chunks.join('') };
    };
    const json = out('json');
    await json.sink.announce(swapped);
    await json.sink.flush();
    expect(JSON.parse(json.text())).toEqual({ kind: 'model', ...swapped });
    const text = out('text');
    await text.sink.announce(swapped);
    await text.sink.announce(refused);
    await text.sink.flush();
    expect(text.text().split('\n')).toEqual([
      `MODEL  swapped line-v2 (bbbbbbbbbbbb) from /models/incoming/v2 (watch)  shadow 8 frames, 88 % agreed`,
      `MODEL  refused /tmp/v3 (command): /tmp/v3/manifest.json is missing: pass a bundle directory  in service: line-v2 (bbbbbbbbbbbb)`,
      '',
    ]);
  });
});

async function bundle(path: string, name: string, seed: number): Promise<LoadedBundle> {
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
  return writeBundle(path, await createBundle({ config, seed, name, thresholds: { image: 0.5, pixel: 0.5, source: 'test' } }));
}

describe('a run with a JSON-lines sink and no MQTT', () => {
  test('the file holds the swap and the refusal between the frames each bundle judged', async () => {
    const a = await bundle(join(dir, 'a'), 'line-v1', 1);
    const b = await bundle(join(dir, 'b'), 'line-v2', 2);
    cpSync(b.dir, join(dir, 'tampered'), { recursive: true });
    appendFileSync(join(dir, 'tampered', 'weights.safetensors'), Buffer.from([0]));
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    const file = join(dir, 'run.jsonl');
    const run = await startRun(parseRunConfig({
      model: a.dir,
      backend: { name: 'onnxruntime', threads: 1 },
      source: { type: 'files', path: frames, watch: true, pollMs: 20, stableMs: 0, includeExisting: true },
      sinks: [{ type: 'jsonl', path: file, fsync: false }],
      metrics: { summaryIntervalS: 0 },
      logging: { level: 'silent' },
    }));
    const png = await gradientPng(40, 40);
    const framesIn = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while (linesOf(file).filter((l) => l.kind === 'inspection').length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} inspection lines`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    writeFileSync(join(frames, 'f1.png'), png);
    await framesIn(1);
    await run.models.propose({ path: b.dir, trigger: 'watch' });
    writeFileSync(join(frames, 'f2.png'), png);
    await framesIn(2);
    await run.models.propose({ path: join(dir, 'tampered'), sha256: b.sha256, trigger: 'command' });
    writeFileSync(join(frames, 'f3.png'), png);
    await framesIn(3);
    run.stop();
    await run.done;

    const lines = linesOf(file);
    expect(lines.map((l) => (l.kind === 'model' ? `model ${l.outcome as string}` : `${l.frameId as string} ${(l.model as { bundleName: string }).bundleName}`))).toEqual([
      'f1.png line-v1', 'model swapped', 'f2.png line-v2', 'model refused', 'f3.png line-v2',
    ]);
    expect(lines[1]).toMatchObject({ kind: 'model', trigger: 'watch', candidate: { path: b.dir, bundleSha256: b.sha256 }, inService: { bundleName: 'line-v2', bundleSha256: b.sha256 } });
    expect(lines[3]).toMatchObject({ kind: 'model', trigger: 'command', candidate: { path: join(dir, 'tampered') }, inService: { bundleSha256: b.sha256 } });
    expect(lines[3]!.reason).toMatch(/weights\.safetensors/);
  }, 90_000);
});
