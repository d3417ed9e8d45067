import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseRunConfig } from '../../src/config/load.js';
import { camerasOf } from '../../src/config/cameras.js';
import { runOutputs, type InferenceBackend, type InferenceInputs, type InferenceOutputs } from '../../src/infer/backend.js';
import { withDynamicBatch } from '../../src/infer/onnx-batch.js';
import { createOnnxRuntimeBackend } from '../../src/infer/onnxruntime.js';
import { SharedBackend } from '../../src/infer/shared-backend.js';
import { onnxType } from '../../src/model/onnx-proto.js';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { tinyBundle } from './helpers.js';

const base = { model: 'b', sinks: [{ type: 'stdout' }] };
const files = (path: string) => ({ type: 'files', path });

describe('run config: sources', () => {
  test('a two-camera cell: ids, topic paths (default: the MQTT sink line/station), per-camera ROI and thresholds', () => {
    const c = parseRunConfig({
      ...base,
      sinks: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', line: 'L1', station: 'S3', camera: 'cell' }],
      sources: [
        { id: 'top', capture: files('a'), roi: { x: 0, y: 0, width: 10, height: 10 }, thresholds: { image: 0.7 } },
        { id: 'side', capture: files('b'), topic: 'L2/S9/side-left' },
      ],
    });
    const cams = camerasOf(c);
    expect(cams.map((x) => [x.id, x.ids, x.field])).toEqual([
      ['top', { line: 'L1', station: 'S3', camera: 'top' }, 'sources[0].capture'],
      ['side', { line: 'L2', station: 'S9', camera: 'side-left' }, 'sources[1].capture'],
    ]);
    expect(cams[0]!.roi).toEqual({ x: 0, y: 0, width: 10, height: 10 });
    expect(cams[0]!.thresholds).toEqual({ image: 0.7 });
  });

  test('the single source form is unchanged: one camera, no ids on its records', () => {
    const cams = camerasOf(parseRunConfig({ ...base, source: files('a'), roi: { x: 1, y: 2, width: 3, height: 4 } }));
    expect(cams).toHaveLength(1);
    expect(cams[0]!.ids).toBeUndefined();
    expect(cams[0]!.roi).toEqual({ x: 1, y: 2, width: 3, height: 4 });
  });

  test.each([
    [{ source: files('a'), sources: [{ id: 'x', capture: files('b') }] }, /config: source and sources are both given: keep source for one camera or sources for several/],
    [{}, /config: source is missing: give source \(one camera\) or sources \(several\)/],
    [{ sources: [{ id: 'x', capture: files('a') }, { id: 'x', capture: files('b') }] }, /sources\.1\.id "x" is used twice: give each camera its own id/],
    [{ sources: [{ id: 'x', capture: files('a') }], roi: { x: 0, y: 0, width: 1, height: 1 } }, /roi: applies to source only: with sources, give roi and thresholds per camera/],
    [{ sources: [{ id: 'a/b', capture: files('a') }] }, /sources\.0\.id/],
    [{ sources: [{ id: 'x', capture: files('a'), topic: 'L1/S1' }] }, /sources\.0\.topic.*<line>\/<station>\/<camera>/],
    [{ source: files('a'), swap: { commands: true } }, /swap\.commands needs an mqtt sink \(commands arrive on its broker\): add one/],
  ])('refuses %j with one line naming the field and the fix', (extra, message) => {
    expect(() => parseRunConfig({ ...base, ...extra })).toThrow(message);
  });
});

/** A back end that records the batches it was given: each input's first value names its frame. */
class RecordingBackend implements InferenceBackend {
  readonly name = 'recording';
  readonly width = 2;
  readonly height = 1;
  readonly concurrency = 1;
  readonly maxBatch = 2;
  batches: number[][] = [];
  private release: (() => void)[] = [];
  run(inputs: InferenceInputs): Promise<Float32Array> {
    return this.runBatch([inputs]).then((r) => r[0]!);
  }
  runBatch(inputs: readonly InferenceInputs[]): Promise<Float32Array[]> {
    this.batches.push(inputs.map((i) => i.image[0]!));
    return new Promise((resolve) => this.release.push(() => resolve(inputs.map((i) => i.image.slice()))));
  }
  /** Finishes the oldest run in flight. */
  next(): void {
    this.release.shift()?.();
  }
  async dispose(): Promise<void> {}
}

const input = (n: number): InferenceInputs => ({ image: new Float32Array(6).fill(n), edge: new Float32Array(2) });
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('SharedBackend', () => {
  test('batches frames of different cameras round-robin: a flooding camera cannot push out a slow one', async () => {
    const inner = new RecordingBackend();
    const shared = new SharedBackend(inner, { maxBatch: 2 });
    const flood = shared.port('flood');
    const slow = shared.port('slow');
    const results: Promise<Float32Array | InferenceOutputs>[] = [];
    for (let i = 1; i <= 5; i++) results.push(flood.run(input(i))); // camera "flood": frames 1..5
    results.push(slow.run(input(100)), slow.run(input(101))); // camera "slow": 100, 101
    for (let i = 0; i < 5; i++) {
      inner.next();
      await flush();
    }
    const recons = await Promise.all(results);
    expect(recons.map((r) => runOutputs(r).recon[0])).toEqual([1, 2, 3, 4, 5, 100, 101]); // each caller got its own frame back
    // Frame 1 ran alone (nothing else waited); then each batch took one frame per camera while both had some.
    expect(inner.batches).toEqual([[1], [100, 2], [101, 3], [4, 5]]);
    expect(shared.stats()).toEqual({ runs: 4, frames: 7, bySize: [undefined, 1, 3] });
  });

  test('a back end without runBatch runs one frame per inference whatever maxBatch says', async () => {
    const inner = new RecordingBackend() as RecordingBackend & { runBatch?: unknown };
    delete (inner as { runBatch?: unknown }).runBatch;
    Object.defineProperty(inner, 'runBatch', { value: undefined });
    const shared = new SharedBackend(inner as InferenceBackend, { maxBatch: 8 });
    expect(shared.maxBatch).toBe(1);
  });

  test('ports refuse a duplicate id; dispose rejects frames still waiting', async () => {
    const inner = new RecordingBackend();
    const shared = new SharedBackend(inner);
    const a = shared.port('a');
    expect(() => shared.port('a')).toThrow('Expected a new port id but "a" is taken');
    void a.run(input(1)); // runs
    const waiting = a.run(input(2));
    await shared.dispose();
    await expect(waiting).rejects.toMatchObject({ code: 'E_INFER', message: expect.stringContaining('disposed while frames waited') });
  });
});

describe('ONNX Runtime batch of several frames', () => {
  let dir: string;
  let bundle: LoadedBundle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmaerec-batch-'));
    bundle = await tinyBundle(join(dir, 'b'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('one run of 3 frames gives each frame the reconstruction it gets alone; the bundle file is unchanged', async () => {
    const before = readFileSync(bundle.paths.onnx);
    const backend = await createOnnxRuntimeBackend(bundle, { threads: 1, maxBatch: 4 });
    try {
      expect(backend.maxBatch).toBe(4);
      const plane = 32 * 32;
      const frames = [0.2, 0.5, 0.8].map((v, k) => ({
        image: Float32Array.from({ length: 3 * plane }, (_, i) => (v + ((i * (k + 3)) % 17) / 100) % 1),
        edge: Float32Array.from({ length: plane }, (_, i) => (i % 5) / 5),
      }));
      const batched = (await backend.runBatch!(frames)).map((o) => runOutputs(o).recon);
      const alone = (await Promise.all(frames.map((f) => backend.run(f)))).map((o) => runOutputs(o).recon);
      expect(batched).toHaveLength(3);
      batched.forEach((b, i) => {
        expect(b.length).toBe(3 * plane);
        let worst = 0;
        for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(b[j]! - alone[i]![j]!));
        expect(worst).toBeLessThan(1e-4);
      });
      expect(alone[0]).not.toEqual(alone[1]); // distinct frames, so a mix-up would show
      await expect(backend.runBatch!([...frames, ...frames])).rejects.toThrow('Expected 1..4 frames for runBatch but received 6');
    } finally {
      await backend.dispose();
    }
    expect(readFileSync(bundle.paths.onnx).equals(before)).toBe(true);
  });

  test("a model another producer wrote stays at batch 1, with the reason", () => {
    const Model = onnxType('ModelProto');
    const model = Model.toObject(Model.decode(readFileSync(bundle.paths.onnx)));
    const other = Model.encode(Model.fromObject({ ...model, producer_name: 'pytorch' })).finish();
    expect(withDynamicBatch(other)).toEqual({ ok: false, reason: expect.stringContaining('written by "pytorch", not mmaerec-edge: its graph may depend on a batch of 1') });
    expect(withDynamicBatch(new Uint8Array([1, 2, 3]))).toMatchObject({ ok: false, reason: expect.stringContaining('model.onnx cannot be read to batch it') });
  });
});

describe('runCell under load', () => {
  let dir: string;
  let bundle: LoadedBundle;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmaerec-cell-load-'));
    bundle = await tinyBundle(join(dir, 'b'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a flooding camera drops its own oldest frames, a stalled one holds nothing, the steady one loses none', async () => {
    const { Inspector } = await import('../../src/pipeline/inspector.js');
    const { MemorySource } = await import('../../src/capture/memory-source.js');
    const { PipelineMetrics } = await import('../../src/observe/metrics.js');
    const { runCell } = await import('../../src/pipeline/cell.js');
    const { FakeBackend, gradientPng } = await import('./helpers.js');
    const shared = new SharedBackend(new FakeBackend(32, 32, undefined, 15));
    const ids = ['steady', 'flood', 'stalled'];
    const inspectors = await Promise.all(ids.map((id) => Inspector.create(bundle, { inferenceBackend: shared.port(id) })));
    // Both live cameras (drop-oldest): the steady one sends a frame every 100 ms, far below its share of a back end
    // that takes 15 ms a run, while the flooding one sends 40 at once. Starving would show as steady drops.
    const steady = new MemorySource({ name: 'steady', queueCapacity: 2, policy: 'drop-oldest' });
    const flood = new MemorySource({ name: 'flood', queueCapacity: 2, policy: 'drop-oldest' });
    const stalled = new MemorySource({ name: 'stalled', queueCapacity: 2 });
    const sources = [steady, flood, stalled];
    for (const s of sources) await s.start();
    const records: { camera?: string; frameId: string }[] = [];
    const sink = { name: 'mem', write: async (r: { camera?: { camera: string }; frameId: string }) => void records.push({ camera: r.camera?.camera, frameId: r.frameId }), flush: async () => {}, close: async () => {} };
    const metrics = new PipelineMetrics();
    const running = runCell({ sinks: [sink as never], metrics, cameras: ids.map((id, i) => ({ id, source: sources[i]!, inspector: inspectors[i]!, ids: { camera: id }, maxInFlight: 2 })) });
    const png = await gradientPng(32, 32);
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) pushes.push(flood.push({ id: `x${i}`, capturedAt: Date.now(), image: png })); // all at once
    for (let i = 0; i < 8; i++) {
      await steady.push({ id: `s${i}`, capturedAt: Date.now(), image: png });
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(pushes);
    for (const s of sources) s.end();
    const stats = await running;
    await Promise.all(inspectors.map((i) => i.close()));
    await shared.dispose();
    expect(records.filter((r) => r.camera === 'steady').map((r) => r.frameId)).toEqual(Array.from({ length: 8 }, (_, i) => `s${i}`));
    expect(stats.cameras.stalled!.frames).toBe(0);
    const flooded = records.filter((r) => r.camera === 'flood').length;
    expect(stats.cameras.flood!.dropped).toBe(40 - flooded);
    expect(stats.cameras.flood!.dropped).toBeGreaterThan(0);
    expect(stats.cameras.steady!.dropped).toBe(0);
    expect(await metrics.text()).toMatch(new RegExp(`mmaerec_dropped_frames_total\\{camera="flood"\\} ${40 - flooded}`));
  }, 60_000);
});
