import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEngineMetadata, checkPlanFile, type EngineEnvironment } from '../../src/engine/check.js';
import { ENGINE_FORMAT, readEngineMetadata, writeEngineMetadata, type EngineMetadata } from '../../src/engine/metadata.js';
import { MmaerecError } from '../../src/errors.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const planBytes = Buffer.from('pretend serialized plan bytes');
const planSha = createHash('sha256').update(planBytes).digest('hex');

const meta = (): EngineMetadata => ({
  format: ENGINE_FORMAT,
  tensorrt: { version: '10.3.0', headers: '10.3.0' },
  gpu: { name: 'Orin', computeCapability: '8.7', totalMemoryBytes: 7.4e9 },
  precision: 'fp16',
  inputs: { image: [1, 3, 64, 48], edge: [1, 1, 64, 48] },
  outputs: { recon: [1, 3, 64, 48] },
  batch: { min: 1, opt: 4, max: 4 },
  bundle: { name: 'demo', sha256: A, onnxSha256: B },
  plan: { bytes: planBytes.length, sha256: planSha },
  workspaceMiB: 1024,
  calibration: null,
  builtAt: '2026-11-26T21:00:00.000Z',
  buildSeconds: 312.4,
  builtBy: 'mmaerec-edge 0.1.0',
});
const env = (): EngineEnvironment => ({
  bundle: { dir: '/b', sha256: A, width: 48, height: 64 },
  gpu: { name: 'Orin', computeCapability: '8.7' },
  tensorrtVersion: '10.3.0',
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MmaerecError);
    expect((err as MmaerecError).code).toBe('E_ENGINE');
    expect((err as Error).message).toContain('rebuild it on this device with `npx mmaerec-edge build-engine --model /b --out /p/engine.plan`');
    return (err as Error).message;
  }
  throw new Error('expected the engine to be refused');
}

describe('engine metadata check', () => {
  it('accepts an engine built for this bundle, GPU and TensorRT version', () => {
    expect(() => checkEngineMetadata(meta(), env(), '/p/engine.plan')).not.toThrow();
  });

  it('refuses an engine of another bundle', () => {
    const e = env();
    e.bundle.sha256 = B;
    expect(refusal(() => checkEngineMetadata(meta(), e, '/p/engine.plan'))).toMatch(/was built from bundle aaaaaaaaaaaa \("demo"\), not from the bundle in \/b \(bbbbbbbbbbbb\)/);
  });

  it('refuses an input size that differs from the bundle', () => {
    const e = env();
    e.bundle.width = 64;
    expect(refusal(() => checkEngineMetadata(meta(), e, '/p/engine.plan'))).toMatch(/takes 48x64 images but the bundle's input is 64x64/);
  });

  it('refuses another TensorRT version, patch level included', () => {
    const e = env();
    e.tensorrtVersion = '10.3.1';
    expect(refusal(() => checkEngineMetadata(meta(), e, '/p/engine.plan'))).toMatch(/built with TensorRT 10\.3\.0 but this machine has TensorRT 10\.3\.1/);
  });

  it('refuses another compute capability and another GPU model of the same capability', () => {
    const e = env();
    e.gpu = { name: 'NVIDIA H100 80GB HBM3', computeCapability: '9.0' };
    expect(refusal(() => checkEngineMetadata(meta(), e, '/p/engine.plan'))).toMatch(/built for compute capability 8\.7 \(Orin\) but this GPU is NVIDIA H100 80GB HBM3 with compute capability 9\.0/);
    const f = env();
    f.gpu.name = 'Orin NX';
    expect(refusal(() => checkEngineMetadata(meta(), f, '/p/engine.plan'))).toMatch(/built on a Orin but this GPU is a Orin NX/);
  });
});

describe('engine metadata file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mmaerec-trt-meta-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const hint = 'rebuild it with build-engine';

  it('round-trips through write and read', async () => {
    const path = join(dir, 'engine.plan.json');
    await writeEngineMetadata(path, meta());
    expect(await readEngineMetadata(path, hint)).toEqual(meta());
    expect(JSON.parse(await readFile(path, 'utf8')).format).toBe('mmaerec-engine/1');
  });

  it('refuses missing, malformed and schema-violating metadata with the rebuild hint', async () => {
    const expectEngineError = async (path: string, message: RegExp) => {
      const err = await readEngineMetadata(path, hint).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MmaerecError);
      expect((err as MmaerecError).code).toBe('E_ENGINE');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/: rebuild it with build-engine$/);
    };
    await expectEngineError(join(dir, 'absent.json'), /absent\.json is missing/);
    await writeFile(join(dir, 'bad.json'), '{"format": ');
    await expectEngineError(join(dir, 'bad.json'), /bad\.json is not valid JSON/);
    await writeFile(join(dir, 'version.json'), JSON.stringify({ ...meta(), tensorrt: { version: '10.3', headers: '' } }));
    await expectEngineError(join(dir, 'version.json'), /version\.json: tensorrt\.version: a version like 10\.3\.0/);
    await writeFile(join(dir, 'format.json'), JSON.stringify({ ...meta(), format: 'mmaerec-engine/0' }));
    await expectEngineError(join(dir, 'format.json'), /format\.json: format: /);
    await writeFile(join(dir, 'shape.json'), JSON.stringify({ ...meta(), inputs: { image: [1, 1, 64, 48], edge: [1, 1, 64, 48] } }));
    await expectEngineError(join(dir, 'shape.json'), /shape\.json: inputs\.image\.1: /);
    // A batch range the back end cannot use: min above 1 (a lone frame could not run), opt above max, beyond 64.
    await writeFile(join(dir, 'min.json'), JSON.stringify({ ...meta(), batch: { min: 2, opt: 4, max: 4 } }));
    await expectEngineError(join(dir, 'min.json'), /min\.json: batch\.min: /);
    await writeFile(join(dir, 'opt.json'), JSON.stringify({ ...meta(), batch: { min: 1, opt: 8, max: 4 } }));
    await expectEngineError(join(dir, 'opt.json'), /opt\.json: batch: opt must be at most max/);
    await writeFile(join(dir, 'max.json'), JSON.stringify({ ...meta(), batch: { min: 1, opt: 65, max: 65 } }));
    await expectEngineError(join(dir, 'max.json'), /max\.json: batch\.opt: /);
  });

  it('reads metadata written before batch ranges as an engine of one frame per inference', async () => {
    const { batch: _batch, ...older } = meta();
    const path = join(dir, 'older.json');
    await writeFile(path, JSON.stringify(older));
    expect((await readEngineMetadata(path, hint)).batch).toEqual({ min: 1, opt: 1, max: 1 });
  });

  it('checks the plan file against its recorded size and sha256', async () => {
    const plan = join(dir, 'engine.plan');
    await writeFile(plan, planBytes);
    await expect(checkPlanFile(meta(), env(), plan)).resolves.toBeUndefined();
    await writeFile(plan, planBytes.subarray(0, 10));
    await expect(checkPlanFile(meta(), env(), plan)).rejects.toThrow(/has 10 bytes but its metadata says 29 \(partial copy or replaced\): rebuild it/);
    const swapped = Buffer.from(planBytes);
    swapped[0] ^= 1;
    await writeFile(plan, swapped);
    await expect(checkPlanFile(meta(), env(), plan)).rejects.toThrow(/does not match the sha256 in its metadata/);
    await rm(plan);
    await expect(checkPlanFile(meta(), env(), plan)).rejects.toThrow(/engine .*engine\.plan is missing \(its metadata is there\)/);
  });
});
