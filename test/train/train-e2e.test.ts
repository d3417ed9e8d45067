import { mkdtemp, readFile, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { train } from '../../src/train/trainer.js';
import { loadBundleWeights } from '../../src/model/bundle.js';
import { TfjsNetwork } from '../../src/model/tfjs-executor.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

/** A tiny network: 32², the smallest widths the lite topology allows, one memory level. */
const tiny = {
  inputSize: 32,
  backbone: { arch: 'resnet18', widthDivisor: 16, trainable: false },
  levelChannels: [4, 4, 8, 8],
  headChannels: 4,
  memory: { items: 6, levels: [3] },
};

let dir: string;
let data: string;

/** Striped "fabric" images with a per-image phase: structured, learnable, different from each other. */
async function makeImages(folder: string, n: number, w = 40, h = 40): Promise<void> {
  await mkdir(join(folder, 'sub'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = 128 + 90 * Math.sin((x + 2 * y + i * 3) * 0.5);
        px[(y * w + x) * 3] = v;
        px[(y * w + x) * 3 + 1] = v * 0.8;
        px[(y * w + x) * 3 + 2] = 60 + (i * 20) % 100;
      }
    }
    const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
    // mixed formats and a grayscale file: the loader must handle all of them
    if (i % 3 === 0) await img.png().toFile(join(folder, `img${i}.png`));
    else if (i % 3 === 1) await img.jpeg({ quality: 95 }).toFile(join(folder, 'sub', `img${i}.jpg`));
    else await img.grayscale().tiff().toFile(join(folder, `img${i}.tiff`));
  }
}

const base = () => ({
  data,
  preset: 'lite' as const,
  model: tiny,
  batch: 2,
  lr: 3e-3,
  seed: 7,
  checkpointEvery: 5,
  progress: false,
  backend: 'wasm' as const,
  bnBatches: 2,
  // the paper's topology with memory (the default without --backbone, skip-memory, would drop it)
  noPretrained: 'bn-reestimate' as const,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-train-'));
  data = join(dir, 'good');
  await makeImages(data, 9);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train (tiny config, 32², wasm)', () => {
  it('lowers the loss over a few dozen steps and writes a bundle that onnxruntime runs like tfjs', async () => {
    const out = join(dir, 'bundle');
    const r = await train({ ...base(), out, steps: 40, command: 'test' });
    expect(r.interrupted).toBe(false);
    expect(r.backend.name).toBe('wasm');
    const first = r.history[0]!.total;
    const last = r.history[r.history.length - 1]!.total;
    expect(last).toBeLessThan(first * 0.8);
    const bundle = r.bundle!;
    const m = bundle.manifest;
    expect(m.provenance.steps).toBe(40);
    expect(m.provenance.backend).toBe('wasm');
    expect((m.provenance.data as { images: number }).images).toBe(9);
    expect((m.provenance.data as { digest: string }).digest).toMatch(/^[0-9a-f]{64}$/);
    expect(m.thresholds.source).toContain('train validation');
    expect(r.warnings.some((w) => /^only 1 held-out good image\(s\): no false-alarm rate can be estimated/.test(w))).toBe(true);
    expect(Number.isFinite(m.thresholds.image)).toBe(true);
    await expect(readFile(join(out, 'checkpoint', 'state.json'))).rejects.toThrow();

    // the exported ONNX model agrees with the tfjs executor on the trained weights
    const weights = await loadBundleWeights(bundle);
    const net = new TfjsNetwork(tf, bundle.config, weights);
    const s = 32;
    const image = new Float32Array(3 * s * s).map((_, i) => (Math.sin(i * 0.1) + 1) / 2);
    const edge = new Float32Array(s * s).map((_, i) => (i % 5) / 5);
    const nhwc = tf.tidy(() => tf.transpose(tf.tensor4d(image, [1, 3, s, s]), [0, 2, 3, 1]) as tf.Tensor4D);
    const e = tf.tensor4d(edge, [1, s, s, 1]);
    const recon = tf.tidy(() => tf.transpose(net.forward(nhwc, e, { training: false }).recon, [0, 3, 1, 2]));
    const expected = (await recon.data()) as Float32Array;
    net.dispose();
    const session = await ort.InferenceSession.create(bundle.paths.onnx);
    const outs = await session.run({ image: new ort.Tensor('float32', image, [1, 3, s, s]), edge: new ort.Tensor('float32', edge, [1, 1, s, s]) });
    const got = outs.recon!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  }, 240_000);

  it('chooses the open scoring keys on held-out good images and synthetic anomalies, thresholds for 1 % false alarms', async () => {
    const r = await train({ ...base(), out: join(dir, 'selected'), steps: 2, validationFraction: 0.5, scoring: { mu: 0.002 } });
    const m = r.bundle!.manifest;
    const sel = m.provenance.scoringSelection as { on: string; searched: string[]; candidates: number; chosen: Record<string, number>; auroc: number };
    expect(sel.on).toMatch(/^[45] held-out good images vs [45] synthetic anomalies/);
    expect(sel.searched).toEqual(['shadingWindow', 'margin']); // mu was fixed by the config
    expect(sel.candidates).toBe(4 * 3);
    expect(m.scoring.mu).toBe(0.002);
    expect(m.scoring.shadingWindow).toBe(sel.chosen.shadingWindow);
    expect(m.scoring.aggregation.margin ?? 0).toBe(sel.chosen.margin);
    expect(m.thresholds.operatingPoint).toMatchObject({ rule: 'false-alarm', falseAlarmRate: 0.01, method: expect.stringMatching(/^(gumbel|data-bound)$/) });
    expect(m.thresholds.pixel).toBeLessThanOrEqual(m.thresholds.image);
    // no path of this machine in the manifest
    expect(JSON.stringify(m)).not.toContain(dir);
    expect((m.provenance.data as { validationFiles: string[] }).validationFiles.every((f) => !f.startsWith('/'))).toBe(true);
    // with 1 held-out image (the test's default split) no rate can be estimated: said
    expect(r.warnings.some((w) => /^\d+ good images cannot show a 1 % false-alarm rate/.test(w))).toBe(true);
  }, 240_000);

  it('with a feature bank: fills it from training images and searches the fusion α beside the scoring keys', async () => {
    const r = await train({ ...base(), out: join(dir, 'bank'), steps: 2, validationFraction: 0.5, featureBank: true, model: { ...tiny, featureBank: { items: 16 } } });
    const m = r.bundle!.manifest;
    const sel = m.provenance.scoringSelection as { searched: string[]; candidates: number; chosen: Record<string, number> };
    expect(sel.searched).toEqual(['shadingWindow', 'mu', 'margin', 'alpha']);
    expect(sel.candidates).toBe(4 * 3 * 3 * 5);
    expect(m.provenance.featureBank).toMatchObject({ items: 16, coreset: 'greedy k-centre', fusedWithAlpha: sel.chosen.alpha });
    // the position normalisation was offered, measured both ways, and kept only if it separated better
    const pos = m.provenance.positionNorm as { chosen: boolean; syntheticAuroc: { off: number; on: number }; statsImages: number };
    expect(pos.chosen).toBe(pos.syntheticAuroc.on > pos.syntheticAuroc.off);
    expect(pos.statsImages).toBeGreaterThan(0);
    expect(m.positionNorm !== undefined).toBe(pos.chosen);
    if (sel.chosen.alpha === 0) expect(m.featureFusion).toBeUndefined();
    else expect(m.featureFusion).toMatchObject({ alpha: sel.chosen.alpha, grid: { width: 4, height: 4 } });
    const bank = (await loadBundleWeights(r.bundle!)).get('featureBank.bank')!;
    expect(bank.shape).toEqual([16, 8 + 16]); // resnet18 / 16: layer2 (8) + layer3 (16) channels
    expect(bank.data.some((v) => v !== 0)).toBe(true);
    // off by default without a pretrained backbone
    const plain = await train({ ...base(), out: join(dir, 'no-bank'), steps: 1 });
    expect(plain.bundle!.config.featureBank).toBeUndefined();
  }, 240_000);

  it('tiled: learns aspect-kept tiles of wide images, calibrates on stitched maps, and the bundle inspects tile by tile', async () => {
    const wide = join(dir, 'wide');
    await makeImages(wide, 8, 96, 48);
    const r = await train({ ...base(), data: wide, out: join(dir, 'tiled'), steps: 3, validationFraction: 0.5, tiling: { shortEdge: 32 } });
    const m = r.bundle!.manifest;
    expect(m.input.tiling).toEqual({ shortEdge: 32, overlap: 0.25 });
    expect((m.provenance.scoringSelection as { on: string }).on).toMatch(/^4 held-out good images vs 4 synthetic anomalies/);
    expect(m.thresholds.operatingPoint).toMatchObject({ images: 4 });
    const { Inspector } = await import('../../src/pipeline/inspector.js');
    const inspector = await Inspector.create(r.bundle!, { threads: 1 });
    try {
      const png = await sharp(Buffer.alloc(96 * 48 * 3, 120), { raw: { width: 96, height: 48, channels: 3 } }).png().toBuffer();
      const a = await inspector.analyze({ id: 'w', capturedAt: 0, image: new Uint8Array(png) });
      expect([a.mapWidth, a.mapHeight]).toEqual([64, 32]); // 96×48 at short edge 32, tiles at x = 0, 24, 32
      expect(Number.isFinite(a.result.score)).toBe(true);
    } finally {
      await inspector.close();
    }
    await expect(train({ ...base(), data: wide, out: join(dir, 'tiled-bad'), steps: 1, tiling: { shortEdge: 16 } })).rejects.toThrow(/^tiling\.shortEdge 16 is below the model input 32: .*give a short edge of at least 32$/);
  }, 240_000);

  it('resumes from a checkpoint to the same weights as an uninterrupted run', async () => {
    const a = join(dir, 'whole');
    const b = join(dir, 'split');
    const opts = { steps: 12, keepCheckpoint: true };
    const whole = await train({ ...base(), ...opts, out: a });
    const part = await train({ ...base(), ...opts, out: b }, { stopAfter: 7 });
    expect(part.interrupted).toBe(true);
    expect((await loadCheckpoint(b))!.state.step).toBe(7);
    const rest = await train({ ...base(), ...opts, out: b, resume: true });
    expect(rest.step).toBe(12);
    const wa = await loadBundleWeights(whole.bundle!);
    const wb = await loadBundleWeights(rest.bundle!);
    let maxDiff = 0;
    for (const [name, t] of wa) {
      const u = wb.get(name)!;
      for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(t.data[i]! - u.data[i]!));
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // and a changed option refuses to continue someone else's run
    await expect(train({ ...base(), ...opts, out: b, resume: true, lr: 1e-2 })).rejects.toThrow(/other options or data/);
  }, 240_000);

  it('stops on an abort signal (Ctrl-C) with a checkpoint to resume from', async () => {
    const out = join(dir, 'aborted');
    const c = new AbortController();
    c.abort();
    const r = await train({ ...base(), steps: 5, out }, { signal: c.signal });
    expect(r.interrupted).toBe(true);
    expect(r.bundle).toBeUndefined();
    const ck = await loadCheckpoint(out);
    expect(ck!.state.step).toBe(0);
    expect(ck!.state.totalSteps).toBe(5);
  }, 60_000);

  it('fails early with one-line errors on bad input', async () => {
    await expect(train({ ...base(), data: join(dir, 'nope'), out: join(dir, 'x'), steps: 1 })).rejects.toThrow(/does not exist or is not a folder/);
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'notes.txt'), 'x');
    await expect(train({ ...base(), data: empty, out: join(dir, 'y'), steps: 1 })).rejects.toThrow(/holds 0 image/);
    await expect(train({ ...base(), out: join(dir, 'z'), steps: 1, batch: 0 })).rejects.toThrow(/batch/);
    await expect(train({ ...base(), out: join(dir, 'z'), steps: 1, epochs: 1 })).rejects.toThrow(/only one of --steps/);
    const locked = join(dir, 'locked');
    await mkdir(locked, { recursive: true });
    await chmod(locked, 0o500);
    if (process.getuid?.() !== 0) {
      await expect(train({ ...base(), out: join(locked, 'out'), steps: 1 })).rejects.toThrow(/not writable/);
    }
  }, 60_000);
});
