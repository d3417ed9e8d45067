import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/model/config.js';
import { checkParity, setupParity } from './parity-helper.js';

// tfjs on the wasm back end (XNNPACK; the fast one available here) vs ONNX Runtime.
let cleanup: () => Promise<void>;
beforeAll(async () => {
  cleanup = await setupParity('wasm');
});
afterAll(async () => cleanup());

describe('tfjs (wasm back end) and ONNX Runtime agree on the same bundle', () => {
  it('lite preset (128², resnet18, CA)', async () => {
    const { maxDiff, maxAbs } = await checkParity(presetConfig('lite'), 'lite');
    expect(maxAbs).toBeGreaterThan(1e-3); // a non-trivial output
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  }, 120_000);

  it('reduced-width paper topology (wide_resnet50_2 / 4, level-0 projection, 64²)', async () => {
    const config = presetConfig('paper', { inputSize: 64, backbone: { widthDivisor: 4 }, levelChannels: [32, 64, 128, 256], headChannels: 16 });
    const { maxDiff, maxAbs } = await checkParity(config, 'paper-small');
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  }, 120_000);
});
