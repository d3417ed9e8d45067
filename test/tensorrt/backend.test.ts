import { runOutputs } from '../../src/infer/backend.js';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOW_TO_GET_TENSORRT, tensorrtFromAddon } from '../../src/engine/addon.js';
import { buildEngine } from '../../src/engine/build.js';
import { readEngineMetadata } from '../../src/engine/metadata.js';
import { MmaerecError } from '../../src/errors.js';
import { createBackend, registerBackend } from '../../src/infer/registry.js';
import { createTensorRTBackend, tensorrtBackendEntry } from '../../src/infer/tensorrt.js';
import { FusedScorer } from '../../src/score/fused.js';
import { aggregateRef } from '../../src/score/reference/fused.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { fakeTensorRT } from './fake-tensorrt.js';

const S = 32;
let dir: string;
let bundle: LoadedBundle;
let other: LoadedBundle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-trt-backend-'));
  bundle = await writeBundle(join(dir, 'bundle'), await createBundle({ config: presetConfig('lite', { inputSize: S }), seed: 1 }));
  other = await writeBundle(join(dir, 'other'), await createBundle({ config: presetConfig('lite', { inputSize: S }), seed: 2 }));
  process.env.FAKE_TRT_SIZE = String(S);
});
afterAll(async () => {
  delete process.env.FAKE_TRT_SIZE;
  await rm(dir, { recursive: true, force: true });
});

describe('TensorRT availability', () => {
  it('explains a missing addon, an addon without TensorRT, and an incomplete one', () => {
    const none = tensorrtFromAddon(undefined, 'build/Release/mmaerec.node not found');
    expect(none).toEqual({ ok: false, reason: `the native addon is not loaded (build/Release/mmaerec.node not found): ${HOW_TO_GET_TENSORRT}` });
    const without = tensorrtFromAddon({ edgeMap() {} });
    expect(without.ok).toBe(false);
    expect(!without.ok && without.reason).toMatch(/^the native addon was built without TensorRT .*JetPack 6 .*TENSORRT_ROOT.*npm run build:native/);
    const partial = tensorrtFromAddon({ tensorrt: { version: () => ({}) } });
    expect(!partial.ok && partial.reason).toMatch(/interface is incomplete/);
    const broken = tensorrtFromAddon({ tensorrt: { version: () => { throw new Error('libnvinfer.so.10: cannot open'); }, queryDevice() {}, buildEngine() {}, Engine: class {} } });
    expect(!broken.ok && broken.reason).toMatch(/the TensorRT library does not load \(libnvinfer\.so\.10: cannot open\): check LD_LIBRARY_PATH/);
  });
});

describe('fallback to ONNX Runtime on a machine without TensorRT (this one)', () => {
  it('auto picks onnxruntime and reports why TensorRT was skipped', async () => {
    const unregister = registerBackend(tensorrtBackendEntry);
    try {
      const be = await createBackend(bundle, { backend: 'auto', threads: 1 });
      expect(be.name).toMatch(/^onnxruntime-/);
      expect(be.skipped[0]!.name).toBe('tensorrt');
      expect(be.skipped[0]!.reason).toMatch(/^the TensorRT back end needs TensorRT, but the native addon (is not loaded|was built without TensorRT).*npm run build:native/);
      const out = runOutputs(await be.run({ image: new Float32Array(3 * S * S).fill(0.5), edge: new Float32Array(S * S) })).recon;
      expect(out.length).toBe(3 * S * S);
      await be.dispose();
      const forced = await createBackend(bundle, { backend: 'tensorrt' }).catch((e: unknown) => e);
      expect(forced).toBeInstanceOf(MmaerecError);
      expect((forced as MmaerecError).code).toBe('E_UNSUPPORTED');
    } finally {
      unregister();
    }
  });

  it('refuses device "cpu" up front', async () => {
    await expect(createTensorRTBackend(bundle, { device: 'cpu' })).rejects.toThrow(/TensorRT runs on the GPU only and device "cpu" was asked: use the onnxruntime back end/);
  });
});

describe('build-engine and the TensorRT back end over a test double of the addon', () => {
  it('without TensorRT: E_UNSUPPORTED naming how to get it, before the bundle is read', async () => {
    const err = await buildEngine({ model: join(dir, 'no-such-bundle') }, { tensorrt: { ok: false, reason: 'the native addon was built without TensorRT: install it' } }).catch((e: unknown) => e);
    expect((err as MmaerecError).code).toBe('E_UNSUPPORTED');
    expect((err as Error).message).toBe('build-engine needs TensorRT, but the native addon was built without TensorRT: install it');
  });

  it('refuses, before any work, precision flags on TensorRT 11 and an output folder that does not exist', async () => {
    const trt11 = fakeTensorRT({}, '11.1.0');
    const e11 = await buildEngine({ model: bundle.dir, int8: true, calib: join(dir, 'good') }, { tensorrt: trt11.availability }).catch((e: unknown) => e);
    expect((e11 as MmaerecError).code).toBe('E_UNSUPPORTED');
    expect((e11 as Error).message).toMatch(/^TensorRT 11\.1\.0 builds strongly typed networks and has no INT8 calibration: build without --fp16\/--int8, or feed an ONNX .*Q\/DQ/);
    expect(trt11.calls.builds).toEqual([]);
    const fake = fakeTensorRT();
    const eOut = await buildEngine({ model: bundle.dir, out: join(dir, 'no', 'such', 'e.plan') }, { tensorrt: fake.availability }).catch((e: unknown) => e);
    expect((eOut as MmaerecError).code).toBe('E_IO');
    expect((eOut as Error).message).toMatch(/cannot write the engine into .*no\/such \(missing or not writable\): create it or pick another --out/);
    expect(fake.calls.builds).toEqual([]);
  });

  it('hands checked options to the native builder and writes metadata beside the plan', async () => {
    const fake = fakeTensorRT();
    const events: string[] = [];
    const built = await buildEngine({ model: bundle.dir, fp16: true, workspace: '64' }, { tensorrt: fake.availability, onProgress: (e) => events.push(e.kind) });
    expect(fake.calls.builds[0]).toEqual({
      onnxPath: bundle.paths.onnx, planPath: join(bundle.dir, 'engine.plan'), fp16: true, int8: false,
      calibrationFile: '', calibrationCache: '', workspaceBytes: 64 << 20, device: 0, maxBatch: 1,
    });
    expect(events).toEqual(['stage', 'phase-start', 'step', 'phase-finish', 'stage', 'stage']);
    const meta = await readEngineMetadata(built.metadataPath, 'x');
    expect(meta).toMatchObject({
      format: 'mmaerec-engine/1', precision: 'fp16', tensorrt: { version: '10.3.0', headers: '10.3.0' },
      gpu: { name: 'Orin', computeCapability: '8.7' }, inputs: { image: [1, 3, S, S], edge: [1, 1, S, S] },
      outputs: { recon: [1, 3, S, S] }, batch: { min: 1, opt: 1, max: 1 }, bundle: { sha256: bundle.sha256, onnxSha256: bundle.manifest.files['model.onnx']!.sha256 },
      workspaceMiB: 64, calibration: null, buildSeconds: 1.3,
    });
    expect(meta.plan.bytes).toBe((await readFile(built.planPath)).length);
  });

  it('INT8: preprocesses the calibration images into a batch file, keys the cache, removes the batch file', async () => {
    const fake = fakeTensorRT();
    const good = join(dir, 'good');
    await mkdir(good, { recursive: true });
    await writeFile(join(good, 'a.png'), 'x');
    await writeFile(join(good, 'b.png'), 'y');
    const prepare = async (_f: unknown, w: number, h: number) => ({ image: new Float32Array(3 * w * h), edge: new Float32Array(w * h) });
    const out = join(dir, 'int8', 'e.plan');
    await mkdir(join(dir, 'int8'));
    const built = await buildEngine({ model: bundle.dir, int8: true, calib: good, out }, { tensorrt: fake.availability, prepare });
    const call = fake.calls.builds[0]!;
    expect(call.int8).toBe(true);
    expect(call.calibrationFile).toBe(`${out}.calib-batches.bin`);
    expect(fake.calls.calibrationBytes).toEqual([32 + 2 * 4 * S * S * 4]);
    expect(existsSync(call.calibrationFile)).toBe(false);
    expect(call.calibrationCache).toMatch(new RegExp(`^${out.replace(/\./g, '\\.')}\\.calib-[0-9a-f]{16}\\.cache$`));
    expect(built.metadata.calibration).toEqual({ images: 2, source: good, cacheFile: call.calibrationCache.split('/').pop(), cacheHit: false });
    expect(built.metadata.precision).toBe('int8');
  });

  it('loads a matching engine, queues concurrent runs, and computes through the addon', async () => {
    const fake = fakeTensorRT();
    await buildEngine({ model: bundle.dir }, { tensorrt: fake.availability });
    const be = await createTensorRTBackend(bundle, { tensorrt: fake.availability });
    expect([be.name, be.width, be.height]).toEqual(['tensorrt-fp32', S, S]);
    const image = new Float32Array(3 * S * S).map((_, i) => (i % 7) / 7);
    const edge = new Float32Array(S * S).map((_, i) => (i % 3) / 3);
    const [a, b] = (await Promise.all([be.run({ image, edge }), be.run({ image, edge })])).map((o) => runOutputs(o).recon);
    expect(fake.calls.maxInFlight).toBe(1);
    expect(a![5]).toBeCloseTo(0.5 * image[5]! + edge[5]!, 6);
    expect(b).toEqual(a);
    await expect(be.run({ image: new Float32Array(3), edge })).rejects.toThrow(RangeError);
    await be.dispose();
    await expect(be.run({ image, edge })).rejects.toThrow(/after dispose/);
  });

  it('scores on the device with the scorer\'s params: map and score back, the reconstruction only when asked, the margin applied', async () => {
    const fake = fakeTensorRT();
    await buildEngine({ model: bundle.dir }, { tensorrt: fake.availability });
    const be = await createTensorRTBackend(bundle, { tensorrt: fake.availability });
    const image = new Float32Array(3 * S * S).map((_, i) => (i % 11) / 11);
    const edge = new Float32Array(S * S);
    const scorer = new FusedScorer({ shadingWindow: 9, aggregation: { kind: 'max', margin: 0.25 } });
    const plain = await be.runScored!({ image, edge }, scorer);
    expect(plain.recon).toBeUndefined();
    expect(fake.calls.scored[0]).toEqual({ params: scorer.nativeParams, wantRecon: false });
    expect(plain.score).toBe(aggregateRef(plain.map, scorer.options.aggregation, S, S));
    const withRecon = await be.runScored!({ image, edge }, scorer, { recon: true });
    expect(withRecon.recon).toEqual(await be.run({ image, edge }));
    await expect(be.runScored!({ image: new Float32Array(3), edge }, scorer)).rejects.toThrow(RangeError);
    await be.dispose();
    await expect(be.runScored!({ image, edge }, scorer)).rejects.toThrow(/after dispose/);
  });

  it('refuses a stale engine (other bundle, other GPU, other TensorRT, missing engine) with the rebuild command', async () => {
    const fake = fakeTensorRT();
    await buildEngine({ model: bundle.dir }, { tensorrt: fake.availability });
    const plan = join(bundle.dir, 'engine.plan');
    const rebuild = /: rebuild it on this device with `npx mmaerec-edge build-engine --model .* --out .*engine\.plan`$/;
    const refused = async (p: Promise<unknown>, message: RegExp) => {
      const err = await p.catch((e: unknown) => e);
      expect((err as MmaerecError).code).toBe('E_ENGINE');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(rebuild);
    };
    await refused(createTensorRTBackend(other, { tensorrt: fake.availability, engine: plan }), /was built from bundle/);
    await refused(createTensorRTBackend(bundle, { tensorrt: fakeTensorRT({ name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0' }).availability }), /compute capability 8\.7 \(Orin\)/);
    await refused(createTensorRTBackend(bundle, { tensorrt: fakeTensorRT({}, '10.3.1').availability }), /TensorRT 10\.3\.0 but this machine has TensorRT 10\.3\.1/);
    const missing = await createTensorRTBackend(other, { tensorrt: fake.availability }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/^no TensorRT engine at .*other\/engine\.plan: build one with `npx mmaerec-edge build-engine --model .*other`$/);
  });

  it('auto prefers a valid TensorRT engine over ONNX Runtime', async () => {
    const fake = fakeTensorRT();
    await buildEngine({ model: bundle.dir }, { tensorrt: fake.availability });
    const unregister = registerBackend({ ...tensorrtBackendEntry, create: (b, o) => createTensorRTBackend(b, { ...o, tensorrt: fake.availability }) });
    try {
      const be = await createBackend(bundle, {});
      expect(be.name).toBe('tensorrt-fp32');
      expect(be.skipped).toEqual([]);
      await be.dispose();
    } finally {
      unregister();
    }
  });
});
