import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { Inspector } from '../../src/pipeline/inspector.js';
import { fusedScore } from '../../src/score/fused.js';
import { FakeBackend, gradientPng, reconWithBlock, tinyBundle } from './helpers.js';

let dir: string;
let bundle: LoadedBundle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-inspector-'));
  bundle = await tinyBundle(path.join(dir, 'bundle'), { image: 0.3, pixel: 0.2, source: 'test thresholds' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const frame = (image: Uint8Array | { width: number; height: number; channels: 3; data: Uint8Array }, id = 'f1') => ({ id, capturedAt: 1_700_000_000_000, image, origin: 'test' });

describe('Inspector with the real ONNX Runtime back end', () => {
  it('inspects a PNG into a result with every field, provenance and per-stage latency', async () => {
    const inspector = await Inspector.create(bundle.dir, { threads: 1 });
    try {
      const r = await inspector.inspect(frame(await gradientPng(64, 48)));
      expect(r).toMatchObject({
        kind: 'inspection', frameId: 'f1', origin: 'test', capturedAt: 1_700_000_000_000,
        imageThreshold: 0.3, pixelThreshold: 0.2,
        model: { bundleName: 'tiny', bundleSha256: bundle.sha256, backend: expect.stringMatching(/^onnxruntime/) },
      });
      expect(Number.isFinite(r.score)).toBe(true);
      expect(r.verdict).toBe(r.score >= 0.3 ? 'defect' : 'ok');
      expect(r.finishedAt).toBeGreaterThanOrEqual(Date.now() - 60_000);
      for (const k of ['decodeMs', 'preprocessMs', 'inferMs', 'scoreMs', 'totalMs'] as const) expect(r.latency[k]).toBeGreaterThanOrEqual(0);
      expect(r.latency.totalMs).toBeGreaterThanOrEqual(r.latency.inferMs);
      for (const reg of r.regions) {
        expect(reg.x + reg.width).toBeLessThanOrEqual(64);
        expect(reg.y + reg.height).toBeLessThanOrEqual(48);
      }
    } finally {
      await inspector.close();
    }
  });

  it('refuses a missing bundle and a tampered one with E_BUNDLE naming the fix', async () => {
    await expect(Inspector.create(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/manifest.json is missing: pass a bundle directory/) });
    const tampered = path.join(dir, 'tampered');
    await tinyBundle(tampered);
    const onnx = path.join(tampered, 'model.onnx');
    const bytes = await readFile(onnx);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(onnx, bytes);
    await expect(Inspector.create(tampered)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/does not match its sha256.*: copy the bundle again/) });
  });
});

describe('Inspector with a fake back end', () => {
  it('perfect reconstruction → ok with score ≈ 0 and no regions', async () => {
    const backend = new FakeBackend(32, 32);
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    const r = await inspector.inspect(frame(await gradientPng(64, 64)));
    expect(r.verdict).toBe('ok');
    expect(r.score).toBeLessThan(1e-3);
    expect(r.regions).toEqual([]);
    expect(r.model.backend).toBe('fake');
    await inspector.close();
    expect(backend.disposed).toBe(false); // not ours to dispose
  });

  it('a reconstruction error → defect with a region mapped back through resize and ROI', async () => {
    // ROI 128×64 at (100, 20) of a 320×160 frame; map 32×32 → x×4, y×2. Block at map x 8..16, y 8..16.
    const backend = new FakeBackend(32, 32, reconWithBlock(32, 32, { x0: 8, x1: 16, y0: 8, y1: 16 }));
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend, roi: { x: 100, y: 20, width: 128, height: 64 } });
    const a = await inspector.analyze(frame(await gradientPng(320, 160)));
    expect(a.result.verdict).toBe('defect');
    expect(a.result.score).toBeGreaterThanOrEqual(0.3);
    expect(a.mapWidth).toBe(32);
    expect(a.map.length).toBe(32 * 32);
    expect(a.input.length).toBe(32 * 32 * 3);
    expect(a.recon[(10 * 32 + 10) * 3 + 1]).toBe(1); // HWC, green channel of the grey block
    const top = a.result.regions[0]!;
    // The map's region spreads a little beyond the block (filter windows), but must cover it: frame x 132..164, y 36..52.
    expect(top.x).toBeLessThanOrEqual(132);
    expect(top.x + top.width).toBeGreaterThanOrEqual(164);
    expect(top.y).toBeLessThanOrEqual(36);
    expect(top.y + top.height).toBeGreaterThanOrEqual(52);
    expect(top.x).toBeGreaterThanOrEqual(100);
    expect(top.x + top.width).toBeLessThanOrEqual(228);
    expect(top.area).toBeGreaterThan(0);
    expect(top.maxScore).toBeGreaterThanOrEqual(top.meanScore);
    await inspector.close();
  });

  it('threshold overrides change the verdict; heatmaps only for defects in "defects" mode', async () => {
    const backend = new FakeBackend(32, 32, reconWithBlock(32, 32, { x0: 8, x1: 16, y0: 8, y1: 16 }));
    const strict = await Inspector.create(bundle, { inferenceBackend: backend, thresholds: { image: 1e9 }, heatmap: { mode: 'defects' } });
    const ok = await strict.inspect(frame(await gradientPng(64, 64)));
    expect(ok).toMatchObject({ verdict: 'ok', imageThreshold: 1e9 });
    expect(ok.heatmap).toBeUndefined();
    const loose = await Inspector.create(bundle, { inferenceBackend: backend, heatmap: { mode: 'defects', format: 'jpeg' } });
    const bad = await loose.inspect(frame(await gradientPng(64, 64)));
    expect(bad.heatmap).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
    expect((await sharp(bad.heatmap!.data).metadata()).format).toBe('jpeg');
  });

  it('a scoring override replaces only its keys; the score is fusedScore with them; bad keys fail at create', async () => {
    // A reconstruction that is the input brighter by 0.2: lighting, which shadingWindow leaves out of the score.
    const backend = new FakeBackend(32, 32, (image) => image.map((v) => v + 0.2));
    const shaded = { ...bundle, manifest: { ...bundle.manifest, scoring: { ...bundle.manifest.scoring, mu: 0.004 } } };
    const plain = await Inspector.create(shaded, { inferenceBackend: backend });
    const over = await Inspector.create(shaded, { inferenceBackend: backend, scoring: { shadingWindow: 9 } });
    expect(over.scoring).toEqual({ ...shaded.manifest.scoring, mu: 0.004, shadingWindow: 9 });
    const png = await gradientPng(64, 64);
    const a = await plain.analyze(frame(png));
    const b = await over.analyze(frame(png));
    expect(b.result.score).toBeCloseTo((await fusedScore(b.input, b.recon, 32, 32, over.scoring)).score, 6);
    expect(a.result.score).toBeGreaterThan(0.05);
    expect(b.result.score).toBeLessThan(a.result.score / 10);
    await expect(Inspector.create(bundle, { inferenceBackend: backend, scoring: { shadingWindow: 4 } })).rejects.toThrow(
      'Invalid scoring option shadingWindow: 4 is even; use 0 (off) or an odd window (e.g. 5)',
    );
  });

  it('NaN or Inf model output → E_INFER for that frame, an error record, and the next frame still works', async () => {
    const backend = new FakeBackend(32, 32, (image, call) => {
      const out = image.slice();
      if (call === 1) out[5] = NaN;
      if (call === 2) out[7] = -Infinity;
      return out;
    });
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    const png = await gradientPng(32, 32);
    await expect(inspector.inspect(frame(png, 'nan'))).rejects.toMatchObject({ code: 'E_INFER', message: expect.stringMatching(/^frame nan: back end fake produced NaN at reconstruction element 5: the model or engine is broken/) });
    const rec = await inspector.inspectRecord(frame(png, 'inf'));
    expect(rec).toMatchObject({ kind: 'error', frameId: 'inf', code: 'E_INFER', origin: 'test', capturedAt: 1_700_000_000_000, model: { backend: 'fake', bundleName: 'tiny' } });
    expect((rec as { message: string }).message).toMatch(/produced -Infinity at reconstruction element 7/);
    expect(await inspector.inspectRecord(frame(png, 'fine'))).toMatchObject({ kind: 'inspection', verdict: 'ok' });
  });

  it('undecodable, truncated and wrong-size frames become E_INPUT error records', async () => {
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32) });
    const png = await gradientPng(40, 40);
    const records = await Promise.all([
      inspector.inspectRecord(frame(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), 'garbage')),
      inspector.inspectRecord(frame(png.subarray(0, png.length >> 1), 'truncated')),
      inspector.inspectRecord(frame({ width: 10, height: 10, channels: 3, data: new Uint8Array(10) }, 'short-raw')),
    ]);
    expect(records.map((r) => [r.kind, r.frameId, r.kind === 'error' ? r.code : ''])).toEqual([
      ['error', 'garbage', 'E_INPUT'], ['error', 'truncated', 'E_INPUT'], ['error', 'short-raw', 'E_INPUT'],
    ]);
    expect((records[2] as { message: string }).message).toMatch(/raw image has 10 bytes, expected 10×10×3 = 300/);
  });

  it('is safe to call concurrently: inference runs one frame at a time, results match their frames', async () => {
    const backend = new FakeBackend(32, 32, undefined, 15);
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    const pngs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => gradientPng(32 + i * 8, 32)));
    const results = await Promise.all(pngs.map((p, i) => inspector.inspect(frame(p, `c${i}`))));
    expect(results.map((r) => r.frameId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    expect(backend.runs).toBe(6);
    expect(backend.maxConcurrent).toBe(1);
    // close() waits for frames in flight
    const late = inspector.inspect(frame(pngs[0]!, 'late'));
    await inspector.close();
    await expect(late).resolves.toMatchObject({ frameId: 'late' });
    await expect(inspector.inspect(frame(pngs[0]!))).rejects.toMatchObject({ message: expect.stringMatching(/inspector is closed/) });
  });

  it('keeps as many frames in inference as the back end has sessions (its concurrency), no more', async () => {
    const backend = new FakeBackend(32, 32, undefined, 20);
    backend.concurrency = 2;
    const inspector = await Inspector.create(bundle, { inferenceBackend: backend });
    const pngs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => gradientPng(32 + i * 8, 32)));
    const results = await Promise.all(pngs.map((p, i) => inspector.inspect(frame(p, `s${i}`))));
    expect(results.map((r) => r.frameId)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(backend.maxConcurrent).toBe(2);
    await inspector.close();
  });

  it('checks its arguments at the call site', async () => {
    await expect(Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32), roi: { x: -1, y: 0, width: 4, height: 4 } })).rejects.toThrow(TypeError);
    await expect(Inspector.create(bundle, { inferenceBackend: new FakeBackend(16, 16) })).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringMatching(/takes 16×16 but the bundle's input is 32×32/) });
    const inspector = await Inspector.create(bundle, { inferenceBackend: new FakeBackend(32, 32) });
    expect(() => inspector.analyze({ id: 1 } as never)).toThrow(/string for frame.id/);
  });
});

describe('BundleGuard', () => {
  it('gives E_BUNDLE records while the bundle is bad, and inspects once a good bundle is in place', async () => {
    const { BundleGuard } = await import('../../src/pipeline/bundle-guard.js');
    const { cp } = await import('node:fs/promises');
    const target = path.join(dir, 'swap');
    let t = 0;
    const guard = await BundleGuard.create(target, { threads: 1 }, { retryS: 5, now: () => t });
    const png = await gradientPng(32, 32);
    expect(await guard.inspectRecord(frame(png, 'a'))).toMatchObject({ kind: 'error', code: 'E_BUNDLE', frameId: 'a', message: expect.stringMatching(/^not inspected: .*manifest.json is missing/) });
    await cp(bundle.dir, target, { recursive: true });
    t = 1000; // before the retry is due: still reported
    expect(await guard.inspectRecord(frame(png, 'b'))).toMatchObject({ kind: 'error', code: 'E_BUNDLE' });
    t = 6000;
    expect(await guard.inspectRecord(frame(png, 'c'))).toMatchObject({ kind: 'inspection', frameId: 'c', model: { bundleSha256: bundle.sha256 } });
    await guard.close();
  });
});
