import { createRequire } from 'node:module';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig, type ModelConfig } from '../../src/model/config.js';
import { MmaerecError } from '../../src/errors.js';
import { importTfjsBackbone, type ImportedBackbone } from '../../src/model/import-backbone.js';
import { initWeights } from '../../src/model/init.js';
import { buildNetwork } from '../../src/model/network.js';
import { writeOnnx } from '../../src/model/onnx-writer.js';
import { loadTfjs, TfjsNetwork, type Tf } from '../../src/model/tfjs-executor.js';

/**
 * nsfwjs's MobileNetV2 (a Keras layers model, uint8-quantised, shipped as base64 inside .min.js files) as the
 * backbone: the four taps of our graph — tfjs executor and exported ONNX in onnxruntime — against the
 * original model run by tfjs itself (tf.loadLayersModel on nsfwjs's own modules, tfjs dequantising).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODEL_DIR = join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2');
const TAPS = ['Conv1_relu', 'block_2_add', 'block_5_add', 'block_12_add'];

let tf: Tf;
let tfl: typeof import('@tensorflow/tfjs');
let imported: ImportedBackbone;
let dir: string;

beforeAll(async () => {
  tf = await loadTfjs('cpu');
  tfl = await import('@tensorflow/tfjs');
  imported = await importTfjsBackbone(MODEL_DIR, 'mobilenet_v2');
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-tfjs-backbone-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The original model, loaded the way nsfwjs loads it: its modules required, base64 decoded, tfjs dequantising. */
async function originalModel(inputSize: number) {
  const require = createRequire(import.meta.url);
  type Layer = { name: string; config: Record<string, unknown> };
  const json = structuredClone(require(join(MODEL_DIR, 'model.min.js'))) as {
    modelTopology: { model_config: { config: { layers: Layer[]; output_layers: unknown[] } } };
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const shard = Buffer.from(require(join(MODEL_DIR, 'group1-shard1of1.min.js')) as string, 'base64');
  const keras = json.modelTopology.model_config.config;
  if (inputSize !== 224) {
    // A fully convolutional truncation runs at any size: relax the input layer's fixed 224² and cut the
    // classifier head (its Dense layers fix the size); strict: false leaves the head's weights unread.
    keras.layers[0]!.config.batch_input_shape = [null, inputSize, inputSize, 3];
    keras.layers = keras.layers.slice(0, keras.layers.findIndex((l) => l.name === TAPS[3]) + 1);
    keras.output_layers = TAPS.map((t) => [t, 0, 0]);
  }
  const weightData = shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength);
  const model = await tfl.loadLayersModel(tfl.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights as never, weightData }), { strict: false });
  return tfl.model({ inputs: model.inputs, outputs: TAPS.map((t) => model.getLayer(t).output as import('@tensorflow/tfjs').SymbolicTensor) });
}

function tinyConfig(inputSize: number): ModelConfig {
  return presetConfig('lite', { inputSize, backbone: { arch: 'mobilenet_v2' }, levelChannels: [8, 8, 16, 16], headChannels: 4 });
}

/** max |a − b| / max |b| */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

describe('MobileNetV2 backbone from a TensorFlow.js layers model (nsfwjs)', () => {
  it('imports the frozen layers to block_12 with their licence; the network adapts with 1×1 projections', () => {
    expect(imported.taps).toEqual(TAPS);
    expect(imported.weights.get('backbone.Conv1.weight')!.shape).toEqual([32, 3, 3, 3]);
    expect(imported.weights.get('backbone.block_1_depthwise.weight')!.shape).toEqual([96, 1, 3, 3]);
    expect(imported.weights.get('backbone.block_12_project_BN.running_var')!.shape).toEqual([96]);
    expect([...imported.weights.keys()].some((k) => k.includes('block_13'))).toBe(false);
    expect(imported.unused).toContain('dense_3/kernel');
    expect(imported.attribution).toEqual({ package: 'nsfwjs@4.4.0', license: 'MIT', copyright: 'Copyright (c) 2019 Infinite Red, Inc.', source: 'dist/models/mobilenet_v2/model.min.js' });
    const graph = buildNetwork(tinyConfig(64));
    expect(graph.outputs.features.map((f) => graph.shapes.get(f))).toEqual([[32, 32, 32], [24, 16, 16], [32, 8, 8], [96, 4, 4]]);
    const proj = graph.params.filter((p) => p.name.startsWith('proj.')).map((p) => [p.name, p.shape, p.trainable]);
    expect(proj).toContainEqual(['proj.3.weight', [16, 96, 1, 1], true]);
    expect(graph.params.filter((p) => p.name.startsWith('backbone.')).every((p) => !p.trainable)).toBe(true);
    // No ImageNet normalisation in the graph (the model is fed img / 255 = the [0, 1] image).
    expect(graph.nodes.some((n) => n.spec.op === 'normalize')).toBe(false);
  });

  for (const size of [224, 96]) {
    it(`taps equal the original model's (tf.loadLayersModel) in the tfjs executor and in ONNX Runtime, ${size}²`, async () => {
      const config = tinyConfig(size);
      const graph = buildNetwork(config);
      const weights = initWeights(graph, 3, imported.weights);
      const net = new TfjsNetwork(tf, config, weights);
      const image = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 7) as import('@tensorflow/tfjs-core').Tensor4D;
      const edge = tf.randomUniform([1, size, size, 1], 0, 1, 'float32', 8) as import('@tensorflow/tfjs-core').Tensor4D;
      const ours = net.forward(image, edge, { training: false, features: true });
      const reference = (await originalModel(size)).predict(image) as import('@tensorflow/tfjs').Tensor[];
      const session = await ort.InferenceSession.create(writeOnnx(graph, weights, { inputSize: size, featureOutputs: true }));
      const nchw = async (t: import('@tensorflow/tfjs-core').Tensor4D) => (await tf.transpose(t, [0, 3, 1, 2]).data()) as Float32Array;
      const out = await session.run({
        image: new ort.Tensor('float32', await nchw(image), [1, 3, size, size]),
        edge: new ort.Tensor('float32', await nchw(edge), [1, 1, size, size]),
      });
      const figures: string[] = [];
      for (let l = 0; l < 4; l++) {
        const ref = reference[l]!;
        expect(ours.features![l]!.shape).toEqual(ref.shape);
        const want = (await ref.data()) as Float32Array;
        const tfjsRel = relDiff((await ours.features![l]!.data()) as Float32Array, want);
        const o = out[`feature${l}`]!;
        const ortNhwc = (await tf.transpose(tf.tensor4d(o.data as Float32Array, o.dims as [number, number, number, number]), [0, 2, 3, 1]).data()) as Float32Array;
        const ortRel = relDiff(ortNhwc, want);
        figures.push(`${TAPS[l]} ${ref.shape.slice(1).join('×')}: tfjs ${tfjsRel.toExponential(1)}, ORT ${ortRel.toExponential(1)}`);
        expect(tfjsRel).toBeLessThan(1e-4);
        expect(ortRel).toBeLessThan(1e-4);
      }
      // and the whole network (memory, projections, decoder) agrees between the two back ends
      const recon = await nchw(ours.recon);
      expect(relDiff(out.recon!.data as Float32Array, recon)).toBeLessThan(1e-4);
      console.log(`MobileNetV2 tap parity at ${size}² (max |Δ| / max |ref|): ${figures.join('; ')}`);
      net.dispose();
      await session.release();
    });
  }

  it('bad inputs: one-line errors that name the fix', async () => {
    const err = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(MmaerecError);
      const m = (e as Error).message;
      expect(m).not.toContain('\n');
      return m;
    };
    expect(await err(importTfjsBackbone(join(dir, 'nope'), 'mobilenet_v2'))).toMatch(/nope does not exist: pass a TensorFlow\.js model folder/);
    await writeFile(join(dir, 'weights.safetensors'), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]));
    expect(await err(importTfjsBackbone(join(dir, 'weights.safetensors'), 'mobilenet_v2'))).toMatch(/is not a TensorFlow\.js model \(a binary file\): pass a TensorFlow\.js model folder/);
    await mkdir(join(dir, 'other'));
    await writeFile(join(dir, 'other', 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: { model_config: { config: { layers: [] } } }, weightsManifest: [] }));
    expect(await err(importTfjsBackbone(join(dir, 'other'), 'mobilenet_v2'))).toMatch(/no layer "Conv1_pad": not a Keras MobileNetV2 \(α 1\.0\); pass nsfwjs's dist\/models\/mobilenet_v2/);
    await writeFile(join(dir, 'other', 'model.json'), '{"modelTopology": ');
    expect(await err(importTfjsBackbone(join(dir, 'other'), 'mobilenet_v2'))).toMatch(/is not a TensorFlow\.js model \(not JSON: .*\): pass/);
    await mkdir(join(dir, 'empty'));
    expect(await err(importTfjsBackbone(join(dir, 'empty'), 'mobilenet_v2'))).toMatch(/holds no model\.json or model\.min\.js/);
    expect(await err(importTfjsBackbone(MODEL_DIR, 'mobilenet_v2', ['Conv1_relu', 'block_2_add', 'block_5_sum', 'block_12_add']))).toMatch(
      /backbone\.taps: "block_5_sum" is not a mobilenet_v2 layer: use layer names such as .* \(defaults Conv1_relu, block_2_add, block_5_add, block_12_add\)/,
    );
    expect(await err(importTfjsBackbone(MODEL_DIR, 'mobilenet_v2', ['Conv1_relu', 'block_2_add', 'block_6_project_BN', 'block_12_add']))).toMatch(
      /backbone\.taps\[2\]: block_6_project_BN is at stride 16, level 2 needs stride 8: tap a layer of that resolution/,
    );
    expect(await err(importTfjsBackbone(MODEL_DIR, 'resnet18'))).toMatch(/--format tfjs-layers supports --arch mobilenet_v2, not resnet18/);
  });
});
