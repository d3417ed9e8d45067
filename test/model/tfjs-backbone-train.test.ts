import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, loadBundleWeights } from '../../src/model/bundle.js';
import { readSafetensors } from '../../src/model/safetensors.js';

/**
 * `import-backbone --format tfjs-layers` on nsfwjs's MobileNetV2, then `train --backbone` with it (a few steps
 * at 64², memory modules on): the bundle carries the backbone kind, taps, normalisation and the weights'
 * licence, loads, and inspects frames with ONNX Runtime.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODEL_DIR = join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2');
// Through main() as bin/mmaerec-edge.js calls it, from an entry file (`node -e … inspect` would start Node's debugger).
const ENTRY = `const { main } = await import(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(2));\n`;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'entry.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 200_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-tfjs-train-'));
  await writeFile(join(dir, 'entry.mjs'), ENTRY);
  await mkdir(join(dir, 'good'));
  for (let i = 0; i < 8; i++) {
    const px = Buffer.alloc(64 * 64 * 3).map((_, k) => (((k / 3) | 0) % 64) * 3 + ((k * (i + 5)) % 37));
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(dir, 'good', `g${i}.png`));
  }
  // widthDivisor as in models/demo-lite.train.yaml: meant for the ResNet, it does not apply to the imported backbone
  await writeFile(join(dir, 'tiny.yaml'), 'batch: 2\nprogress: false\nmodel:\n  inputSize: 64\n  backbone: { widthDivisor: 2 }\n  levelChannels: [8, 8, 16, 16]\n  headChannels: 4\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train --backbone with a MobileNetV2 imported from nsfwjs', () => {
  it('import-backbone → train → a bundle that loads and inspects, with kind, taps, normalisation and licence', async () => {
    const bb = join(dir, 'mobilenet_v2.safetensors');
    const imp = cli('import-backbone', '--format', 'tfjs-layers', '--input', MODEL_DIR, '--arch', 'mobilenet_v2', '--out', bb);
    expect(imp.stderr).toBe('');
    expect(imp.stdout).toMatch(/: 195 mobilenet_v2 tensors \(0\.\d\d M values\) match; taps Conv1_relu, block_2_add, block_5_add, block_12_add\n/);
    expect(imp.stdout).toMatch(/\nweights: nsfwjs@4\.4\.0, MIT, Copyright \(c\) 2019 Infinite Red, Inc\.\n/);
    const meta = (await readSafetensors(bb)).metadata;
    expect(meta).toMatchObject({ arch: 'mobilenet_v2', format: 'tfjs-layers', taps: JSON.stringify(['Conv1_relu', 'block_2_add', 'block_5_add', 'block_12_add']) });

    const out = join(dir, 'bundle');
    const t = cli('train', '--data', join(dir, 'good'), '--out', out, '--preset', 'lite', '--config', join(dir, 'tiny.yaml'), '--backbone', bb, '--steps', '2', '--limit', '6', '--backend', 'wasm');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).not.toMatch(/random/);
    const bundle = await loadBundle(out);
    expect(bundle.config.backbone).toEqual({ arch: 'mobilenet_v2', widthDivisor: 1, trainable: false, taps: ['Conv1_relu', 'block_2_add', 'block_5_add', 'block_12_add'] });
    expect(bundle.config.memory.levels).toEqual([0, 1, 2, 3]);
    expect(bundle.manifest.input).toMatchObject({ width: 64, height: 64, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(bundle.manifest.provenance.backboneWeights).toEqual({ package: 'nsfwjs@4.4.0', license: 'MIT', copyright: 'Copyright (c) 2019 Infinite Red, Inc.', source: 'dist/models/mobilenet_v2/model.min.js' });
    // the frozen backbone left training unchanged
    const weights = await loadBundleWeights(bundle);
    const imported = await readSafetensors(bb);
    const name = 'backbone.block_12_depthwise.weight';
    expect(Buffer.from(weights.get(name)!.data.buffer).equals(Buffer.from(imported.tensors.get(name)!.bytes))).toBe(true);

    const info = JSON.parse(cli('info', out, '--json').stdout);
    expect(info.backbone).toBe('mobilenet_v2');
    const ins = cli('inspect', out, join(dir, 'good', 'g0.png'), '--json');
    expect(ins.code, ins.stderr).toBe(0);
    expect(JSON.parse(ins.stdout.trim().split('\n')[0]!).score).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).config.backbone.arch).toBe('mobilenet_v2');
  });

  it('refuses a --backbone file whose arch contradicts the config, naming the fix', async () => {
    await writeFile(join(dir, 'r18.yaml'), 'model:\n  inputSize: 64\n  backbone: { arch: resnet18 }\n');
    const t = cli('train', '--data', join(dir, 'good'), '--out', join(dir, 'x'), '--preset', 'lite', '--config', join(dir, 'r18.yaml'), '--backbone', join(dir, 'mobilenet_v2.safetensors'));
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/holds mobilenet_v2 weights but model\.backbone\.arch is resnet18: drop model\.backbone\.arch or import a resnet18 backbone\n$/);
    const imp = cli('import-backbone', '--format', 'tfjs-layers', '--input', MODEL_DIR, '--arch', 'mobilenet_v2', '--taps', 'Conv1_relu,block_2_add,nope,block_12_add');
    expect(imp.code).toBe(1);
    expect(imp.stderr).toMatch(/^mmaerec-edge: backbone\.taps: "nope" is not a mobilenet_v2 layer: use layer names such as/);
    expect(imp.stderr.trim().split('\n')).toHaveLength(1);
  });
});
