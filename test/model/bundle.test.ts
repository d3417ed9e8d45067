import { appendFile, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, loadBundle, loadBundleWeights, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { manifestSchema } from '../../src/model/manifest.js';

let dir: string;
let n = 0;
const small = () => presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8 });
const fresh = async () => writeBundle(join(dir, `b${n++}`), await createBundle({ config: small(), seed: 7 }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model bundles', () => {
  it('writes a manifest that validates, with the hash and size of every file and the manifest sha256', async () => {
    const b = await fresh();
    const raw = await readFile(b.paths.manifest);
    const m = manifestSchema.parse(JSON.parse(raw.toString()));
    expect(Object.keys(m.files).sort()).toEqual(['model.onnx', 'weights.safetensors']);
    expect(m.input).toEqual({ width: 32, height: 32, colorOrder: 'rgb', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(m.config).toEqual(small());
    expect(m.provenance.backbone).toBe('random');
    expect(m.thresholds.source).toMatch(/uncalibrated/);
    const { createHash } = await import('node:crypto');
    expect(b.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(m.files['model.onnx']!.sha256).toBe(createHash('sha256').update(await readFile(b.paths.onnx)).digest('hex'));
  });

  it('is reproducible from its seed, and warns when the backbone is random', async () => {
    const a = await createBundle({ config: small(), seed: 3 });
    const b = await createBundle({ config: small(), seed: 3 });
    const c = await createBundle({ config: small(), seed: 4 });
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(Buffer.from(a.onnx).equals(Buffer.from(c.onnx))).toBe(false);
    expect(a.warnings.join()).toMatch(/backbone is randomly initialised/);
  });

  it('refuses weights of the wrong shape for the config', async () => {
    const weights = new Map([['edge.0.conv1.weight', { shape: [1, 1, 3, 3], data: new Float32Array(9) }]]);
    await expect(createBundle({ config: small(), weights })).rejects.toThrow(/tensor "edge.0.conv1.weight" has shape \[1,1,3,3\], expected \[8,1,3,3\]/);
  });

  it('refuses a tampered file, naming it', async () => {
    const b = await fresh();
    const bytes = await readFile(b.paths.weights);
    bytes[bytes.length - 1] ^= 1;
    await writeFile(b.paths.weights, bytes);
    await expect(loadBundle(b.dir)).rejects.toThrow(`${b.paths.weights} does not match its sha256 in the manifest (tampered or corrupted)`);
  });

  it('refuses a partial copy (truncated or missing file), naming the file', async () => {
    const b = await fresh();
    await truncate(b.paths.onnx, 100);
    await expect(loadBundle(b.dir)).rejects.toThrow(`${b.paths.onnx} has 100 bytes, the manifest says`);
    await unlink(b.paths.onnx);
    await expect(loadBundle(b.dir)).rejects.toThrow(`${b.paths.onnx} is missing (partial bundle)`);
    await unlink(b.paths.manifest);
    await expect(loadBundle(b.dir)).rejects.toThrow(`${b.paths.manifest} is missing`);
  });

  it('refuses a manifest that is not JSON, fails the schema, or holds an invalid config', async () => {
    const b = await fresh();
    const good = await readFile(b.paths.manifest, 'utf8');
    await appendFile(b.paths.manifest, '}');
    await expect(loadBundle(b.dir)).rejects.toThrow(/manifest.json is not valid JSON/);
    const m = JSON.parse(good);
    await writeFile(b.paths.manifest, JSON.stringify({ ...m, format: 'other/9' }));
    await expect(loadBundle(b.dir)).rejects.toThrow(/manifest.json: format: /);
    await writeFile(b.paths.manifest, JSON.stringify({ ...m, config: { ...m.config, inputSize: 33 } }));
    await expect(loadBundle(b.dir)).rejects.toThrow(/config: inputSize: inputSize must be a multiple of 16/);
    await writeFile(b.paths.manifest, JSON.stringify({ ...m, files: { ...m.files, '../x': m.files['model.onnx'] } }));
    await expect(loadBundle(b.dir)).rejects.toThrow(/lists a file outside the bundle/);
    const { ['model.onnx']: _omit, ...rest } = m.files;
    await writeFile(b.paths.manifest, JSON.stringify({ ...m, files: rest }));
    await expect(loadBundle(b.dir)).rejects.toThrow(/lists no model.onnx/);
  });

  it('refuses weights that do not fit the config even when the hashes match', async () => {
    const b = await fresh();
    const other = await createBundle({ config: presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 16], headChannels: 8 }) });
    const written = await writeBundle(join(dir, 'other'), other);
    // Keep b's manifest (config), swap in the other bundle's weights and fix up the recorded hash.
    const m = JSON.parse(await readFile(b.paths.manifest, 'utf8'));
    const w = await readFile(written.paths.weights);
    await writeFile(b.paths.weights, w);
    m.files['weights.safetensors'] = written.manifest.files['weights.safetensors'];
    await writeFile(b.paths.manifest, JSON.stringify(m));
    await expect(loadBundleWeights(await loadBundle(b.dir))).rejects.toThrow(/weights.safetensors: tensor ".*" has shape .*: recreate the bundle/);
  });
});
