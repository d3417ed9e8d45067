import sharp from 'sharp';
import type { Frame } from '../../src/capture/frame.js';
import type { PipelineRecord } from '../../src/decide/result.js';
import type { InferenceBackend, InferenceInputs } from '../../src/infer/backend.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';

/** A tiny real bundle (lite config at 32², narrow): ONNX Runtime runs it in a few ms. */
export async function tinyBundle(dir: string, thresholds = { image: 0.5, pixel: 0.5, source: 'test' }): Promise<LoadedBundle> {
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
  return writeBundle(dir, await createBundle({ config, seed: 1, name: 'tiny', thresholds }));
}

/**
 * A test double for the back end: `recon` decides the reconstruction from the input (default: a perfect one),
 * `delayMs` simulates inference time; it records how many runs overlapped.
 */
export class FakeBackend implements InferenceBackend {
  readonly name = 'fake';
  runs = 0;
  maxConcurrent = 0;
  disposed = false;
  /** What the back end claims it can run at once (the Inspector keeps that many in flight). */
  concurrency?: number;
  private active = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly recon: (image: Float32Array, call: number) => Float32Array = (image) => image.slice(),
    private readonly delayMs = 0,
  ) {}

  async run(inputs: InferenceInputs): Promise<Float32Array> {
    this.active += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      return this.recon(inputs.image, ++this.runs);
    } finally {
      this.active -= 1;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/** A PNG of `w`×`h` with a smooth gradient (and, optionally, a filled square of another colour). */
export async function gradientPng(w: number, h: number, square?: { x: number; y: number; size: number }): Promise<Uint8Array> {
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inSquare = square && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
      px.set(inSquare ? [250, 20, 20] : [Math.round((x / w) * 200) + 20, Math.round((y / h) * 200) + 20, 120], (y * w + x) * 3);
    }
  }
  return new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}

/** Planar reconstruction equal to the input except a block [x0, x1)×[y0, y1) set to grey (a "defect"). */
export function reconWithBlock(width: number, height: number, block: { x0: number; x1: number; y0: number; y1: number }) {
  return (image: Float32Array): Float32Array => {
    const out = image.slice();
    const n = width * height;
    for (let y = block.y0; y < block.y1; y++) for (let x = block.x0; x < block.x1; x++) for (let c = 0; c < 3; c++) out[c * n + y * width + x] = c === 1 ? 1 : 0;
    return out;
  };
}

/** An inspector double: every frame is "ok" with score 0. */
export const okInspector = {
  async inspectRecord(frame: Frame): Promise<PipelineRecord> {
    return {
      kind: 'inspection', frameId: frame.id, capturedAt: frame.capturedAt, finishedAt: Date.now(), score: 0, imageThreshold: 1, pixelThreshold: 1,
      verdict: 'ok', regions: [], latency: { decodeMs: 0, preprocessMs: 0, inferMs: 0, scoreMs: 0, totalMs: 0 },
      model: { bundleName: 't', bundleSha256: 'x', backend: 'fake' },
    };
  },
};
