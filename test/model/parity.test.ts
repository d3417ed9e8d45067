import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/model/config.js';
import { checkParity, setupParity } from './parity-helper.js';

// tfjs on its pure-JS cpu back end vs ONNX Runtime (small configs: the cpu back end is slow).
let cleanup: () => Promise<void>;
beforeAll(async () => {
  cleanup = await setupParity('cpu');
});
afterAll(async () => cleanup());

describe('tfjs (cpu back end) and ONNX Runtime agree on the same bundle', () => {
  it.each(['ca', 'se', 'cbam', 'none'] as const)('attention %s', async (attention) => {
    const config = presetConfig('lite', { inputSize: 32, attention, backbone: { widthDivisor: 4 }, levelChannels: [16, 16, 32, 32], headChannels: 8 });
    const { maxDiff, maxAbs } = await checkParity(config, `att-${attention}`);
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  }, 120_000);
});
