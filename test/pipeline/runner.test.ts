import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { FfmpegSource } from '../../src/capture/ffmpeg-source.js';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { PipelineRecord } from '../../src/decide/result.js';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import type { Sink } from '../../src/publish/sink.js';
import { FakeBackend, gradientPng, tinyBundle } from './helpers.js';
import { needs, tools } from '../helpers/require-tool.js';

class CollectingSink implements Sink {
  readonly name = 'collect';
  records: PipelineRecord[] = [];
  flushedAfter = -1;
  closed = false;
  constructor(private readonly failOn?: string) {}
  async write(r: PipelineRecord): Promise<void> {
    if (this.closed) throw new Error('write after close');
    if (r.frameId === this.failOn) throw new Error('disk full');
    this.records.push(r);
  }
  async flush(): Promise<void> {
    this.flushedAfter = this.records.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

let dir: string;
let bundle: LoadedBundle;
let png: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-runner-'));
  bundle = await tinyBundle(path.join(dir, 'bundle'));
  png = await gradientPng(48, 32);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runPipeline', () => {
  it('hands every frame to every sink in frame order; bad frames become error records and the run goes on', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32, undefined, 5) });
    const source = new MemorySource();
    await source.start();
    const sink = new CollectingSink();
    const running = runPipeline({ source, inspector, sinks: [sink], maxInFlight: 3 });
    for (let i = 0; i < 8; i++) await source.push({ id: `f${i}`, capturedAt: i, image: i === 3 ? new Uint8Array([1, 2, 3]) : png });
    source.end();
    const stats = await running;
    expect(sink.records.map((r) => r.frameId)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7']);
    expect(sink.records[3]).toMatchObject({ kind: 'error', code: 'E_INPUT' });
    expect(stats).toMatchObject({ frames: 8, inspected: 7, errors: 1, dropped: 0, sinkFailures: 0 });
    expect(sink.flushedAfter).toBe(8);
    expect(sink.closed).toBe(true);
  });

  it('a graceful stop loses no in-flight result: every frame taken reaches the sinks before they close', async () => {
    const backend = new FakeBackend(32, 32, undefined, 20);
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    const source = new MemorySource({ queueCapacity: 4 });
    await source.start();
    const sink = new CollectingSink();
    const controller = new AbortController();
    let pushed = 0;
    const producer = (async () => {
      try {
        for (;;) {
          await source.push({ id: `f${pushed}`, capturedAt: pushed, image: png });
          pushed += 1;
        }
      } catch {
        // push after stop: the producer ends
      }
    })();
    const running = runPipeline({ source, inspector, sinks: [sink], maxInFlight: 3, signal: controller.signal });
    while (sink.records.length < 3) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const stats = await running;
    await producer;
    // Frames in flight and still queued at the stop all completed.
    expect(stats.frames).toBeGreaterThan(3);
    expect(sink.records).toHaveLength(stats.frames);
    expect(stats.frames).toBe(source.stats().produced);
    expect(new Set(sink.records.map((r) => r.frameId)).size).toBe(stats.frames);
    expect(sink.records.every((r) => r.kind === 'inspection')).toBe(true);
    expect(sink.flushedAfter).toBe(stats.frames);
    expect(sink.closed).toBe(true);
  });

  it('drop-oldest: a slow pipeline drops frames, counts them, and inspects the rest', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32, undefined, 25) });
    const source = new MemorySource({ policy: 'drop-oldest', queueCapacity: 2 });
    await source.start();
    const sink = new CollectingSink();
    const running = runPipeline({ source, inspector, sinks: [sink], maxInFlight: 1 });
    for (let i = 0; i < 20; i++) {
      await source.push({ id: `f${i}`, capturedAt: i, image: png });
      await new Promise((r) => setTimeout(r, 2));
    }
    source.end();
    const stats = await running;
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.dropped).toBe(source.stats().dropped);
    expect(sink.records.length + stats.dropped).toBe(20);
    expect(sink.records.at(-1)!.frameId).toBe('f19'); // the freshest frame always survives
  });

  it('block: the same slow pipeline loses nothing', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32, undefined, 10) });
    const source = new MemorySource({ policy: 'block', queueCapacity: 2 });
    await source.start();
    const sink = new CollectingSink();
    const running = runPipeline({ source, inspector, sinks: [sink], maxInFlight: 1 });
    for (let i = 0; i < 12; i++) await source.push({ id: `f${i}`, capturedAt: i, image: png });
    source.end();
    const stats = await running;
    expect(stats.dropped).toBe(0);
    expect(sink.records.map((r) => r.frameId)).toEqual(Array.from({ length: 12 }, (_, i) => `f${i}`));
  });

  it('a failing sink is counted and logged; the other sinks still get every record', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32) });
    const source = new MemorySource();
    await source.start();
    const good = new CollectingSink();
    const bad = new CollectingSink('f1');
    const logged: string[] = [];
    const logger = { info() {}, warn() {}, error: (_o: object, m: string) => logged.push(m) };
    const running = runPipeline({ source, inspector, sinks: [bad, good], logger });
    for (let i = 0; i < 3; i++) await source.push({ id: `f${i}`, capturedAt: i, image: png });
    source.end();
    const stats = await running;
    expect(good.records).toHaveLength(3);
    expect(bad.records.map((r) => r.frameId)).toEqual(['f0', 'f2']);
    expect(stats.sinkFailures).toBe(1);
    expect(logged).toContain('sink failed: disk full');
  });

  it('logs the periodic one-line summary while running', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32, undefined, 15) });
    const source = new MemorySource();
    await source.start();
    const lines: string[] = [];
    const logger = { info: (_o: object, m: string) => lines.push(m), warn() {}, error() {} };
    const running = runPipeline({ source, inspector, sinks: [new CollectingSink()], logger, summaryIntervalMs: 40 });
    for (let i = 0; i < 10; i++) await source.push({ id: `f${i}`, capturedAt: i, image: png });
    source.end();
    await running;
    expect(lines.some((l) => /^\d+\.\d\d fps, latency p50 [\d.]+ ms p99 [\d.]+ ms; totals: \d+ frames, 0 defects, 0 errors, 0 dropped$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^run finished: .*totals: 10 frames, 0 defects, 0 errors, 0 dropped$/);
  });

  needs(tools.ffmpeg()).it('inspects raw frames from an ffmpeg video source end to end', async () => {
    const video = path.join(dir, 'clip.mkv');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10', '-frames:v', '5', '-c:v', 'ffv1', video]);
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32), roi: { x: 16, y: 0, width: 64, height: 64 } });
    const source = new FfmpegSource({ input: video, width: 96, height: 64 });
    await source.start();
    const sink = new CollectingSink();
    const stats = await runPipeline({ source, inspector, sinks: [sink] });
    expect(stats).toMatchObject({ frames: 5, inspected: 5, errors: 0 });
    expect(sink.records.map((r) => r.frameId)).toEqual(['ffmpeg-1', 'ffmpeg-2', 'ffmpeg-3', 'ffmpeg-4', 'ffmpeg-5']);
    expect(sink.records[0]).toMatchObject({ kind: 'inspection', verdict: 'ok', origin: `ffmpeg:${video}` });
  });
});
