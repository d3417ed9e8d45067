/**
 * pruneOnnx: the feature-bank part of a bundle's ONNX graph gives the same distances as the whole graph, without
 * the autoencoder's nodes or the edge input; an output the model does not have is refused by name.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { onnxType } from '../../src/model/onnx-proto.js';
import { pruneOnnx } from '../../src/model/prune-onnx.js';
import { seededRandom } from '../../src/util/random.js';

const S = 64;
const config = presetConfig('lite', {
  inputSize: S, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8, memory: { levels: [] }, featureBank: { items: 32 },
});

const graphOf = (model: Uint8Array) => {
  const Model = onnxType('ModelProto');
  return (Model.toObject(Model.decode(model), { arrays: true }) as { graph: { node: unknown[]; input: { name: string }[]; output: { name: string }[] } }).graph;
};

describe('pruneOnnx', () => {
  it('the bank-only graph computes featureDistance exactly as the whole graph does, with fewer nodes and no edge input', async () => {
    const { onnx } = await createBundle({ config, seed: 4 });
    const pruned = pruneOnnx(onnx, ['featureDistance']);
    const whole = graphOf(onnx);
    const part = graphOf(pruned);
    expect(part.output.map((o) => o.name)).toEqual(['featureDistance']);
    expect(part.input.map((i) => i.name)).toEqual(['image']);
    expect(part.node.length).toBeGreaterThan(0);
    expect(part.node.length).toBeLessThan(whole.node.length / 2);

    const r = seededRandom(7);
    const image = new ort.Tensor('float32', new Float32Array(3 * S * S).map(() => r()), [1, 3, S, S]);
    const edge = new ort.Tensor('float32', new Float32Array(S * S).map(() => r()), [1, 1, S, S]);
    const full = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    const bank = await ort.InferenceSession.create(pruned, { intraOpNumThreads: 1 });
    const a = (await full.run({ image, edge }))['featureDistance']!.data as Float32Array;
    const b = (await bank.run({ image }))['featureDistance']!.data as Float32Array;
    expect(b.length).toBe((S / 8) ** 2);
    expect(Math.max(...a)).toBeGreaterThan(0);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a[i]!)));
    await full.release();
    await bank.release();
  });

  it('an output the model does not have is refused, naming the ones it has', async () => {
    const { onnx } = await createBundle({ config, seed: 4 });
    expect(() => pruneOnnx(onnx, ['featureDistanse'])).toThrow('cannot prune the model to outputs [featureDistanse]: it has [recon, featureDistance]');
    expect(() => pruneOnnx(onnx, [])).toThrow(/cannot prune the model to outputs \[\]/);
  });
});
