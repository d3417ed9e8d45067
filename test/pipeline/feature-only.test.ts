/**
 * A bundle whose feature fusion has α = 1 is scored from the feature bank alone: the ONNX Runtime back end
 * offers runFeatureDistance (the graph pruned to `featureDistance`), and `inspect` uses it where nobody can read
 * the reconstruction — the result equal to the whole graph's (analyze) — while analyze and an onAnalysis
 * observer still get the reconstruction. Whole frames and tiled; a bundle with α < 1 keeps the whole graph.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RawImage } from '../../src/capture/frame.js';
import type { InferenceBackend } from '../../src/infer/backend.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import type { FeatureFusion } from '../../src/model/manifest.js';
import type { TilingSpec } from '../../src/preprocess/tiles.js';
import { createBackend } from '../../src/infer/registry.js';
import { Inspector, type Analysis } from '../../src/pipeline/inspector.js';
import { frames, SIZE } from './alpha-one-scoring.js';

const config = presetConfig('lite', {
  inputSize: SIZE, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8, memory: { levels: [] }, featureBank: { items: 32 },
});
const fusion = (alpha: number): FeatureFusion => ({ alpha, mapScale: 0.7, featureScale: 1.3, grid: { width: SIZE / 8, height: SIZE / 8 } });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-feature-only-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function bundleWith(name: string, alpha: number, tiling?: TilingSpec): Promise<LoadedBundle> {
  return writeBundle(path.join(dir, name), await createBundle({
    config, seed: 3, featureFusion: fusion(alpha), thresholds: { image: 1, pixel: 0.8, source: 'test' }, ...(tiling ? { tiling } : {}),
  }));
}

/** inspect (bank graph) against analyze (whole graph) on the same frames; how many calls each entry point got. */
async function compare(bundle: LoadedBundle, images: RawImage[]): Promise<void> {
  const inspector = await Inspector.create(bundle, { backend: 'onnxruntime', threads: 1 });
  try {
    expect(inspector.backend.runFeatureDistance).toBeTypeOf('function');
    const whole = vi.spyOn(inspector.backend, 'run');
    const bank = vi.spyOn(inspector.backend as Required<InferenceBackend>, 'runFeatureDistance');
    const results = await Promise.all(images.map((image, i) => inspector.inspect({ id: `f${i}`, capturedAt: 0, image })));
    expect(whole).not.toHaveBeenCalled();
    const bankCalls = bank.mock.calls.length;
    expect(bankCalls).toBeGreaterThanOrEqual(images.length);
    const analyses = await Promise.all(images.map((image, i) => inspector.analyze({ id: `f${i}`, capturedAt: 0, image })));
    expect(bank.mock.calls.length).toBe(bankCalls); // analyze ran the whole graph
    expect(whole.mock.calls.length).toBe(bankCalls);
    for (const [i, r] of results.entries()) {
      const a = analyses[i]!;
      expect(Math.abs(r.score - a.result.score)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a.result.score)));
      expect(r.verdict).toBe(a.result.verdict);
      expect(r.regions.map((g) => [g.x, g.y, g.width, g.height, g.area])).toEqual(a.result.regions.map((g) => [g.x, g.y, g.width, g.height, g.area]));
      expect(a.recon.length).toBe(a.input.length);
    }
    expect(results.some((r) => r.regions.length > 0)).toBe(true);
  } finally {
    await inspector.close();
  }
}

describe('α = 1: scored from the feature bank graph alone', () => {
  it('whole frames: inspect runs the pruned graph and equals the whole graph', async () => {
    await compare(await bundleWith('whole', 1), frames(3));
  });

  it('tiled frames (160×64, three tiles): the same, tile by tile', async () => {
    await compare(await bundleWith('tiled', 1, { shortEdge: SIZE, overlap: 0.25 }), frames(2, 160, SIZE));
  });

  it('an onAnalysis observer keeps the whole graph: its Analysis has the reconstruction', async () => {
    const seen: Analysis[] = [];
    const inspector = await Inspector.create(await bundleWith('observed', 1), { backend: 'onnxruntime', threads: 1, onAnalysis: (a) => seen.push(a) });
    try {
      const bank = vi.spyOn(inspector.backend as Required<InferenceBackend>, 'runFeatureDistance');
      await inspector.inspect({ id: 'f0', capturedAt: 0, image: frames(1)[0]! });
      expect(bank).not.toHaveBeenCalled();
      expect(seen[0]!.recon.length).toBe(SIZE * SIZE * 3);
    } finally {
      await inspector.close();
    }
  });

  it('a manifest that fuses a bank its model does not have is refused in one line naming the fix', async () => {
    const withBank = await createBundle({ config, seed: 3, featureFusion: fusion(1) });
    const { featureBank: _, ...plain } = config;
    const without = await createBundle({ config: plain, seed: 3 });
    const bundle = await writeBundle(path.join(dir, 'mismatch'), { ...withBank, onnx: without.onnx });
    const err = await createBackend(bundle, { backend: 'onnxruntime', threads: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/model\.onnx: the manifest fuses a feature bank but the model has no featureDistance output \(.*\): re-export the bundle with this SDK$/) });
    expect((err as Error).message).not.toContain('\n');
  });

  it('a fusion with α < 1 reads the reconstruction: no bank-only graph is offered', async () => {
    const inspector = await Inspector.create(await bundleWith('mixed', 0.75), { backend: 'onnxruntime', threads: 1 });
    try {
      expect(inspector.backend.runFeatureDistance).toBeUndefined();
      const r = await inspector.inspect({ id: 'f0', capturedAt: 0, image: frames(1)[0]! });
      expect(Number.isFinite(r.score)).toBe(true);
    } finally {
      await inspector.close();
    }
  });
});
