import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../../src/engine/build.js';
import { readEngineMetadata } from '../../src/engine/metadata.js';
import { MmaerecError } from '../../src/errors.js';
import { runOutputs } from '../../src/infer/backend.js';
import { createBackend } from '../../src/infer/registry.js';
import { SharedBackend } from '../../src/infer/shared-backend.js';
import { createTensorRTBackend } from '../../src/infer/tensorrt.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { onnxType } from '../../src/model/onnx-proto.js';
import { sha256File } from '../../src/util/sha256.js';
import { fakeTensorRT } from './fake-tensorrt.js';

// TensorRT batching over a test double of the addon (fake-tensorrt.ts): what build-engine hands the native builder
// for --max-batch, what the metadata records, and how the back end stacks a cell's frames into one engine call.
// The native side (profile, setInputShape, buffers) is in native/tensorrt and its C++ test; neither ran on a GPU here.

const S = 32;
let dir: string;
let bundle: LoadedBundle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-trt-batch-'));
  bundle = await writeBundle(join(dir, 'bundle'), await createBundle({ config: presetConfig('lite', { inputSize: S }), seed: 3 }));
  process.env.FAKE_TRT_SIZE = String(S);
});
afterAll(async () => {
  delete process.env.FAKE_TRT_SIZE;
  await rm(dir, { recursive: true, force: true });
});

/** Frame i of a run: image and edge values that differ per frame, so a mixed-up batch shows. */
const frame = (i: number) => ({
  image: new Float32Array(3 * S * S).map((_, k) => ((k + 7 * i) % 13) / 13),
  edge: new Float32Array(S * S).map((_, k) => ((k * 3 + i) % 5) / 5),
});
const expected = (f: { image: Float32Array; edge: Float32Array }) => f.image.map((v, k) => 0.5 * v + f.edge[k % (S * S)]!);

describe('build-engine --max-batch', () => {
  it('parses a batch-dynamic copy of the ONNX, records the range min 1 / opt n / max n, removes the copy, leaves the bundle as it was', async () => {
    const fake = fakeTensorRT();
    const onnxSha = await sha256File(bundle.paths.onnx);
    const out = join(dir, 'b4.plan');
    const built = await buildEngine({ model: bundle.dir, out, maxBatch: '4' }, { tensorrt: fake.availability });
    const call = fake.calls.builds[0]!;
    expect(call).toMatchObject({ onnxPath: `${out}.batch.onnx`, planPath: out, maxBatch: 4 });
    expect(fake.calls.onnxBatchDims[0]).toEqual(['batch', 'batch']); // image and edge, both symbolic
    expect(existsSync(call.onnxPath)).toBe(false);
    expect(await sha256File(bundle.paths.onnx)).toBe(onnxSha);
    expect(built.metadata.batch).toEqual({ min: 1, opt: 4, max: 4 });
    expect((await readEngineMetadata(built.metadataPath, 'x')).batch).toEqual({ min: 1, opt: 4, max: 4 });
    // The per-frame shapes stay as they were: the range is what says how many frames one inference stacks.
    expect(built.metadata.inputs.image).toEqual([1, 3, S, S]);
  });

  it('without the flag, the bundle\'s own ONNX (batch 1) and a range of 1/1/1', async () => {
    const fake = fakeTensorRT();
    const built = await buildEngine({ model: bundle.dir, out: join(dir, 'b1.plan') }, { tensorrt: fake.availability });
    expect(fake.calls.builds[0]).toMatchObject({ onnxPath: bundle.paths.onnx, maxBatch: 1 });
    expect(fake.calls.onnxBatchDims[0]).toEqual([1, 1]);
    expect(built.metadata.batch).toEqual({ min: 1, opt: 1, max: 1 });
  });

  it('refuses, before building, a bundle whose ONNX another producer wrote (its graph may depend on a batch of 1)', async () => {
    const foreign = await writeBundle(join(dir, 'foreign'), await createBundle({ config: presetConfig('lite', { inputSize: S }), seed: 4 }));
    const Model = onnxType('ModelProto');
    const bytes = Model.encode(Model.fromObject({ ...Model.toObject(Model.decode(await readFile(foreign.paths.onnx))), producer_name: 'pytorch' })).finish();
    await writeFile(foreign.paths.onnx, bytes);
    // Keep the bundle valid: the manifest records the rewritten file's size and sha256.
    const manifest = JSON.parse(await readFile(foreign.paths.manifest, 'utf8'));
    manifest.files['model.onnx'] = { ...manifest.files['model.onnx'], bytes: bytes.length, sha256: await sha256File(foreign.paths.onnx) };
    await writeFile(foreign.paths.manifest, JSON.stringify(manifest));
    const fake = fakeTensorRT();
    const err = await buildEngine({ model: foreign.dir, maxBatch: 2 }, { tensorrt: fake.availability }).catch((e: unknown) => e);
    expect((err as MmaerecError).code).toBe('E_BUNDLE');
    expect((err as Error).message).toMatch(/^--max-batch 2 cannot apply: model\.onnx was written by "pytorch", not mmaerec-edge: .*; build without --max-batch \(one frame per inference\)$/);
    expect(fake.calls.builds).toEqual([]);
  });

  it('removes the plan when the addon built another range than asked (addon and package out of step)', async () => {
    const fake = fakeTensorRT();
    const trt = fake.availability.ok ? fake.availability.trt : undefined;
    const real = trt!.buildEngine;
    trt!.buildEngine = async (o, e) => ({ ...(await real(o, e)), batch: { min: 1, opt: 2, max: 2 } });
    const out = join(dir, 'odd.plan');
    const err = await buildEngine({ model: bundle.dir, out, maxBatch: 4 }, { tensorrt: fake.availability }).catch((e: unknown) => e);
    expect((err as MmaerecError).code).toBe('E_ENGINE');
    expect((err as Error).message).toBe('TensorRT built the batch range min 1 / opt 2 / max 2, not the min 1 / opt 4 / max 4 asked for: rebuild the native addon (`npm run build:native`) so that it matches this package');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.json`)).toBe(false);
  });
});

describe('the TensorRT back end with a batch range', () => {
  it('runBatch stacks the frames into one engine call and gives each frame its own reconstruction', async () => {
    const fake = fakeTensorRT();
    const plan = join(dir, 'run4.plan');
    await buildEngine({ model: bundle.dir, out: plan, maxBatch: 4 }, { tensorrt: fake.availability });
    const be = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 4 });
    expect([be.maxBatch, typeof be.runBatch, be.batchingOff]).toEqual([4, 'function', undefined]);
    const frames = [0, 1, 2].map(frame);
    const out = (await be.runBatch!(frames)).map((o) => runOutputs(o).recon);
    expect(fake.calls.inferFrames).toEqual([3]);
    out.forEach((recon, i) => {
      expect(recon.length).toBe(3 * S * S);
      expect(Math.max(...recon.map((v, k) => Math.abs(v - expected(frames[i]!)[k]!)))).toBeLessThan(1e-6);
    });
    // A lone frame is a call of one (the profile's min); runs and batches queue behind each other, one at a time.
    await Promise.all([be.run(frame(5)), be.runBatch!([frame(6), frame(7)]), be.run(frame(8))]);
    expect(fake.calls.inferFrames).toEqual([3, 1, 2, 1]);
    expect(fake.calls.maxInFlight).toBe(1);
    await be.dispose();
  });

  it('takes the smaller of backend.maxBatch and the engine\'s max, and refuses wrong batches up front', async () => {
    const fake = fakeTensorRT();
    const plan = join(dir, 'run4b.plan');
    await buildEngine({ model: bundle.dir, out: plan, maxBatch: 4 }, { tensorrt: fake.availability });
    const two = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 2 });
    expect(two.maxBatch).toBe(2);
    await expect(two.runBatch!([frame(0), frame(1), frame(2)])).rejects.toThrow(new RangeError('Expected 1..2 frames for runBatch but received 3'));
    await expect(two.runBatch!([])).rejects.toThrow(RangeError);
    await expect(two.runBatch!([frame(0), { image: new Float32Array(5), edge: frame(1).edge }])).rejects.toThrow(/inputs\[1\]\.image/);
    expect(fake.calls.inferFrames).toEqual([]);
    await two.dispose();
    await expect(two.runBatch!([frame(0), frame(1)])).rejects.toThrow(/after dispose/);
    const eight = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 8 });
    expect(eight.maxBatch).toBe(4);
    await eight.dispose();
    // One camera (maxBatch unset): one frame per call, no runBatch, nothing to warn about.
    const one = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan });
    expect([one.maxBatch, one.runBatch, one.batchingOff]).toEqual([1, undefined, undefined]);
    await one.dispose();
    // maxBatch itself is checked where back ends are created, before any of them loads.
    for (const bad of [0, 2.5, 65]) {
      await expect(createBackend(bundle, { maxBatch: bad })).rejects.toThrow(new RangeError(`Expected an integer in 1..64 for maxBatch but received ${bad}`));
    }
  });

  it('an engine built for one frame says, when a cell asks for batches, the build-engine command that batches', async () => {
    const fake = fakeTensorRT();
    const plan = join(dir, 'fp16-b1.plan');
    await buildEngine({ model: bundle.dir, out: plan, fp16: true }, { tensorrt: fake.availability });
    const be = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 3 });
    expect([be.maxBatch, be.runBatch]).toEqual([1, undefined]);
    expect(be.batchingOff).toBe(`the TensorRT engine ${plan} was built for one frame per inference: rebuild it with \`npx mmaerec-edge build-engine --model ${bundle.dir} --fp16 --out ${plan} --max-batch 3\` to infer the cameras' frames in one batch`);
    await be.dispose();
  });

  it('refuses an engine whose loaded range differs from its metadata', async () => {
    const fake = fakeTensorRT();
    const plan = join(dir, 'lying.plan');
    const built = await buildEngine({ model: bundle.dir, out: plan, maxBatch: 4 }, { tensorrt: fake.availability });
    await writeFile(built.metadataPath, JSON.stringify({ ...built.metadata, batch: { min: 1, opt: 2, max: 2 } }));
    const err = await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 4 }).catch((e: unknown) => e);
    expect((err as MmaerecError).code).toBe('E_ENGINE');
    expect((err as Error).message).toMatch(/^engine .*lying\.plan takes batches min 1 \/ opt 4 \/ max 4 but its metadata says min 1 \/ opt 2 \/ max 2: rebuild it on this device with `npx mmaerec-edge build-engine/);
  });

  it('serves a cell: the shared back end batches two cameras\' frames through the engine, each camera getting its own results', async () => {
    const fake = fakeTensorRT();
    const plan = join(dir, 'cell.plan');
    await buildEngine({ model: bundle.dir, out: plan, maxBatch: 2 }, { tensorrt: fake.availability });
    const shared = new SharedBackend(await createTensorRTBackend(bundle, { tensorrt: fake.availability, engine: plan, maxBatch: 2 }));
    const top = shared.port('top');
    const side = shared.port('side');
    const frames = [0, 1, 2, 3, 4, 5].map(frame);
    // Three frames per camera at once: the first call starts with what is there (one), the rest go two by two.
    const results = await Promise.all(frames.map((f, i) => (i % 2 === 0 ? top : side).run(f)));
    results.forEach((r, i) => expect(Math.max(...runOutputs(r).recon.map((v, k) => Math.abs(v - expected(frames[i]!)[k]!)))).toBeLessThan(1e-6));
    expect(fake.calls.inferFrames).toEqual([1, 2, 2, 1]);
    expect(shared.stats()).toMatchObject({ runs: 4, frames: 6 });
    await shared.dispose();
  });
});
