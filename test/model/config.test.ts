import { describe, expect, it } from 'vitest';
import { countComplexity } from '../../src/model/complexity.js';
import { parseModelConfig, presetConfig } from '../../src/model/config.js';
import { PAPER_GMACS } from '../../src/model/info.js';
import { buildNetwork } from '../../src/model/network.js';

describe('model config', () => {
  it('has the paper preset: 256², wide_resnet50_2 frozen, levels 128/256/512/1024, N = 30, CA', () => {
    const c = presetConfig('paper');
    expect(c).toMatchObject({ inputSize: 256, backbone: { arch: 'wide_resnet50_2', trainable: false, widthDivisor: 1 }, levelChannels: [128, 256, 512, 1024], attention: 'ca' });
    expect(c.memory).toEqual({ items: 30, shrink: 1, epsilon: 1e-12, levels: [0, 1, 2, 3] });
  });

  it('merges overrides into a preset and validates the result', () => {
    expect(presetConfig('lite', { inputSize: 64, memory: { items: 10 } }).memory.items).toBe(10);
    expect(() => presetConfig('lite', { inputSize: 100 })).toThrow(/preset lite: inputSize: inputSize must be a multiple of 16/);
    expect(() => presetConfig('lite', { attention: 'transformer' })).toThrow(/attention: .*fix that field/);
    expect(() => presetConfig('lite', { memory: { shrink: 5 } })).toThrow(/memory.shrink/);
    expect(() => presetConfig('huge')).toThrow(/unknown preset "huge": use one of paper, lite/);
    expect(() => parseModelConfig({ ...presetConfig('lite'), extra: 1 })).toThrow(/Unrecognized key/);
  });

  it('paper preset: GMACs within 15 % of the paper\'s 52.21 GMac; backbone alone ≈ 12.0 GMAC', () => {
    const c = countComplexity(buildNetwork(presetConfig('paper')));
    expect(Math.abs(c.gmacs - PAPER_GMACS) / PAPER_GMACS).toBeLessThan(0.15);
    // Wide-ResNet50-2 to layer3 at 256² (environment.md: 12.0 GMAC, 24.9 M parameters).
    expect(c.gmacsByPart.backbone).toBeCloseTo(12.0, 1);
    const backboneParams = c.params - c.trainableParams;
    expect(backboneParams / 1e6).toBeCloseTo(24.9, 1);
  });

  it('counts trainable parameters by hand for a tiny config', () => {
    // No memory, no attention, 1-channel levels: every trainable tensor can be listed.
    const cfg = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 64 }, levelChannels: [1, 1, 1, 1], headChannels: 1, attention: 'none', memory: { levels: [] } });
    const c = countComplexity(buildNetwork(cfg));
    // edge: 4 levels × (conv 3×3 + BN 2 + conv 3×3 + BN 2) = 4 × 22; proj 1×1 with bias for mismatched levels
    // (resnet18/64 channels 1,1,2,4 vs 1 → levels 2, 3: (2+1) + (4+1)); decoder 3 × 22; head conv 9 + BN 2; out 27 + 3.
    expect(c.trainableParams).toBe(4 * 22 + 3 + 5 + 3 * 22 + 11 + 30);
  });
});

describe('info', () => {
  it('reports the paper preset\'s GMACs beside the paper\'s 52.21 GMac (what info --json prints)', async () => {
    const { bundleInfo } = await import('../../src/model/info.js');
    const { scoringSchema } = await import('../../src/model/manifest.js');
    const config = presetConfig('paper');
    const manifest = {
      format: 'mmaerec-bundle/1' as const,
      name: 'p',
      createdAt: '',
      config: config as unknown as Record<string, unknown>,
      input: { width: 256, height: 256, colorOrder: 'rgb' as const, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] },
      scoring: scoringSchema.parse({}),
      thresholds: { image: 1, pixel: 1, source: 'x' },
      files: {},
      provenance: { backbone: 'random' },
    };
    const info = bundleInfo({ dir: '/b', manifest, sha256: '0'.repeat(64), paths: { manifest: '', weights: '', onnx: '' }, config });
    expect(info.paper?.gmacs).toBe(52.21);
    expect(Math.abs(info.gmacs - 52.21) / 52.21).toBeLessThan(0.15);
    const lite = bundleInfo({ dir: '/b', manifest, sha256: '0'.repeat(64), paths: { manifest: '', weights: '', onnx: '' }, config: presetConfig('lite') });
    expect(lite.paper).toBeUndefined();
  });
});
