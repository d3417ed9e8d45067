import { describe, expect, it } from 'vitest';
import { ActivationHistogram } from '../../src/model/quantize/histogram.js';
import { planQuantization } from '../../src/model/quantize/plan.js';
import { activationQuant, quantizeConv } from '../../src/model/qdq.js';
import { foldBatchNorms } from '../../src/model/fold-batchnorm.js';
import { initWeights } from '../../src/model/init.js';
import { presetConfig } from '../../src/model/config.js';
import { buildNetwork } from '../../src/model/network.js';

describe('activation histograms', () => {
  it('keeps every count and the extremes while its range grows', () => {
    const h = new ActivationHistogram();
    h.addAll(Float32Array.from([0.001, 0.5, -0.25]));
    h.addAll(Float32Array.from({ length: 1000 }, (_, i) => (i - 300) / 10)); // range grows 64×
    expect(h.count).toBe(1003);
    expect(h.extremes()).toEqual([-30, 69.9000015258789]);
    const sum = (c: Float64Array) => c.reduce((s, v) => s + v, 0);
    expect(sum(h.positive.counts) + sum(h.negative.counts)).toBe(1003);
  });

  it('percentile range clips the rare outliers; min–max keeps them', () => {
    const h = new ActivationHistogram();
    const values = Float32Array.from({ length: 100_000 }, (_, i) => (i % 1000) / 1000); // uniform [0, 1)
    values[0] = 50; // one outlier
    h.addAll(values);
    const [lo, hi] = h.percentileRange(99.9);
    expect(lo).toBe(-0);
    expect(hi).toBeGreaterThan(0.99);
    expect(hi).toBeLessThan(1.05);
    expect(h.percentileRange(100)[1]).toBe(50);
    // MSE keeps a lone far outlier (clipping 50 to 1 costs more than coarser steps for the rest)…
    expect(h.mseRange()[1]).toBeGreaterThan(40);
  });

  it('MSE range cuts a long tail short of its maximum (exponential values)', () => {
    const n = 100_000;
    const h = new ActivationHistogram();
    h.addAll(Float32Array.from({ length: n }, (_, i) => -Math.log(1 - (i + 0.5) / n)));
    const [, max] = h.extremes();
    const [, hi] = h.mseRange();
    expect(max).toBeGreaterThan(12);
    expect(hi).toBeLessThan(max);
    expect(hi).toBeGreaterThan(4.6); // above the 99th percentile
  });

  it('refuses NaN', () => {
    expect(() => new ActivationHistogram().addAll(Float32Array.of(1, NaN))).toThrow(/NaN or infinity/);
  });
});

describe('QDQ parameters', () => {
  it('uint8 activations keep 0 exact; weights symmetric per channel; bias at input × weight scale', () => {
    expect(activationQuant(0, 2.55)).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const a = activationQuant(-1, 1);
    expect(a.zeroPoint).toBe(127); // 1 / fround(2/255) = 127.4999…
    expect(a.scale * (0 - a.zeroPoint)).toBeCloseTo(-1, 2);
    const q = quantizeConv(Float32Array.of(0.5, -1, 0.25, 0.01, 1e-9, 0), 3, 0.1, Float32Array.of(1, 2, 3));
    expect([...q.weightScale].map((v) => +v.toPrecision(5))).toEqual([1 / 127, 0.25 / 127, 3 / (0.1 * (2 ** 31 - 1))].map((v) => +Math.fround(v).toPrecision(5)));
    expect([...q.weight]).toEqual([64, -127, 127, 5, 0, 0]);
    expect(q.bias![0]).toBe(Math.round(1 / Math.fround(0.1 * Math.fround(1 / 127))));
    // The third channel's weights are tiny: its scale was raised until its bias fits int32.
    expect(Math.abs(q.bias![2]! - (2 ** 31 - 1))).toBeLessThan(2 ** 31 * 1e-6);
  });
});

describe('quantization plan', () => {
  it('int8 convs with ≥ 8 input channels over 2-D maps; gates, the first and the output convs float', () => {
    const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8 });
    const graph = buildNetwork(config);
    const folded = foldBatchNorms(graph, initWeights(graph, 1));
    const plan = planQuantization(folded.graph);
    const float = new Map(plan.floatConvs.map((f) => [f.name, f.reason]));
    expect(float.get('backbone.conv1')).toMatch(/3 input channel/);
    expect(float.get('edge.0.conv1')).toMatch(/1 input channel/);
    expect(float.get('decoder.out')).toMatch(/output/);
    expect(float.get('attention.2.conv_h')).toMatch(/1-pixel-wide/);
    expect(plan.convs.has('edge.0.conv2.weight+edge.0.bn2')).toBe(true);
    expect(plan.calibrated).not.toContain(folded.graph.outputs.recon);
    // The bilinear ×2 outputs take their inputs' parameters.
    const ups = folded.graph.nodes.filter((n) => n.spec.op === 'upsample2x');
    for (const u of ups) expect(plan.tied.get(u.outputs[0]!)).toBe(u.inputs[0]);
    expect(planQuantization(folded.graph, { floatConvs: ['decoder.'] }).floatConvs.filter((f) => f.reason === 'kept float by request').length).toBe(8);
  });
});
