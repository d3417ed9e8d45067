import { runOutputs } from '../../src/infer/backend.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, registerBackend, type SelectedBackend } from '../../src/infer/registry.js';
import { createBundle, writeBundle, type LoadedBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';

let dir: string;
let bundle: LoadedBundle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-ort-'));
  bundle = await writeBundle(dir, await createBundle({ config: presetConfig('lite', { inputSize: 64 }), seed: 3 }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const inputs = (s: number, seed: number) => {
  let a = seed;
  const r = () => ((a = (a * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return { image: new Float32Array(3 * s * s).map(r), edge: new Float32Array(s * s).map(r) };
};

describe('onnxruntime back end', () => {
  it('runs the bundle on CPU: 1×3×H×W finite output that depends on the input', async () => {
    const be = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 1 });
    expect(be.name).toBe('onnxruntime-cpu');
    expect([be.width, be.height]).toEqual([64, 64]);
    const a = runOutputs(await be.run(inputs(64, 1))).recon;
    const b = runOutputs(await be.run(inputs(64, 2))).recon;
    expect(a.length).toBe(3 * 64 * 64);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(a.some((v, i) => v !== b[i])).toBe(true);
    await be.dispose();
    await expect(be.run(inputs(64, 1))).rejects.toThrow(/after dispose/);
  });

  it('rejects a run still in flight when the back end is disposed (no promise left hanging)', async () => {
    const be = await createBackend(bundle, { device: 'cpu' });
    // The expectation is attached before dispose() so the rejection is never momentarily unhandled.
    const inFlight = expect(be.run(inputs(64, 3))).rejects.toThrow(/disposed while a run was in flight/);
    await be.dispose();
    await inFlight;
  });

  it('with sessions: 2 runs two frames at once on two sessions that give the same output as one', async () => {
    const one = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 1 });
    const two = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu', threads: 1, sessions: 2 });
    try {
      expect(one.concurrency).toBe(1);
      expect(two.concurrency).toBe(2);
      const xs = [1, 2, 3, 4].map((s) => inputs(64, s));
      const expected = [];
      for (const x of xs) expected.push(await one.run(x));
      // Four at once: the runs spread over both sessions (each takes the least busy); outputs match their inputs.
      const got = await Promise.all(xs.map((x) => two.run(x)));
      for (let i = 0; i < xs.length; i++) expect(got[i]).toEqual(expected[i]);
    } finally {
      await one.dispose();
      await two.dispose();
    }
    await expect(createBackend(bundle, { sessions: 0 })).rejects.toThrow(/integer in 1\.\.16 for sessions/);
    await expect(createBackend(bundle, { sessions: 1.5 })).rejects.toThrow(RangeError);
  });

  it('rejects inputs of the wrong size at the call site', async () => {
    const be = await createBackend(bundle, { device: 'cpu' });
    await expect(be.run({ image: new Float32Array(10), edge: new Float32Array(64 * 64) })).rejects.toThrow(RangeError);
    await expect(be.run({ image: [] as unknown as Float32Array, edge: new Float32Array(64 * 64) })).rejects.toThrow(TypeError);
    await be.dispose();
  });

  it('does not block the event loop for the length of a run', async () => {
    // A 128² model: each run takes tens of milliseconds. A run that blocked the loop would let the 1 ms
    // timer fire only between runs (≈ once per run); ORT running on its own thread lets it fire throughout.
    const big = await writeBundle(join(dir, 'big'), await createBundle({ config: presetConfig('lite'), seed: 1 }));
    const be = await createBackend(big, { device: 'cpu', threads: 1 });
    const runs = Array.from({ length: 4 }, (_, i) => inputs(128, i));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    for (const x of runs) await be.run(x);
    const total = performance.now() - t0;
    clearInterval(timer);
    await be.dispose();
    expect(total).toBeGreaterThan(20); // otherwise the check below says nothing
    expect(ticks).toBeGreaterThan(3 * runs.length);
  });

  it('auto picks the best registered back end and records why better ones were skipped', async () => {
    const unregister = registerBackend({
      name: 'tensorrt',
      priority: 100,
      create: async () => {
        throw new Error('TensorRT is not installed on this machine');
      },
    });
    try {
      const be: SelectedBackend = await createBackend(bundle, { device: 'cpu' });
      expect(be.name).toBe('onnxruntime-cpu');
      expect(be.skipped[0]).toEqual({ name: 'tensorrt', reason: 'TensorRT is not installed on this machine' });
      await be.dispose();
      await expect(createBackend(bundle, { backend: 'tensorrt' })).rejects.toThrow(/TensorRT is not installed/);
    } finally {
      unregister();
    }
  });

  it('refuses a CUDA request on a build without the CUDA provider, and bad thread counts', async () => {
    const { cudaAvailable } = await import('../../src/infer/onnxruntime.js');
    const ort = await import('onnxruntime-node');
    if (!cudaAvailable(ort).ok) {
      await expect(createBackend(bundle, { backend: 'onnxruntime', device: 'cuda' })).rejects.toThrow(/CUDA requested but unavailable/);
    }
    await expect(createBackend(bundle, { threads: 0 })).rejects.toThrow(RangeError);
  });
});

describe('onnxruntime back end: unusable model', () => {
  it('refuses an ONNX file that onnxruntime cannot parse, with a one-line error naming it', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const { loadBundle } = await import('../../src/model/bundle.js');
    const b = await writeBundle(join(dir, 'junk'), await createBundle({ config: presetConfig('lite', { inputSize: 32 }) }));
    const junk = Buffer.from('this is not an onnx model');
    await writeFile(b.paths.onnx, junk);
    const m = JSON.parse(await readFile(b.paths.manifest, 'utf8'));
    m.files['model.onnx'] = { sha256: createHash('sha256').update(junk).digest('hex'), bytes: junk.length };
    await writeFile(b.paths.manifest, JSON.stringify(m));
    const err = await createBackend(await loadBundle(b.dir), { backend: 'onnxruntime', device: 'cpu' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`^onnxruntime cannot load ${b.paths.onnx} \\(cpu: .*\\): recreate the bundle$`));
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('default registry', () => {
  it('tries TensorRT first and falls back to ONNX Runtime with the reason recorded', async () => {
    const { listBackends } = await import('../../src/infer/registry.js');
    expect(listBackends().map((e) => [e.name, e.priority])).toEqual([['tensorrt', 100], ['onnxruntime', 10]]);
    const be = await createBackend(bundle, { device: 'cpu' });
    expect(be.name).toBe('onnxruntime-cpu');
    expect(be.skipped.map((s) => s.name)).toEqual(['tensorrt']);
    expect(be.skipped[0]!.reason.length).toBeGreaterThan(10);
    await be.dispose();
  });
});
