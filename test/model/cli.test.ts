import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeSafetensors } from '../../src/model/safetensors.js';
import { backboneParams } from '../../src/model/import-backbone.js';
import { ROOT } from '../helpers/require-tool.js';

// Through main() as bin/mmaerec-edge.js calls it (src/cli/main.ts as the entry script deadlocks; reported to the lead).
const ENTRY = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-cli-'));
  await writeFile(join(dir, 'small.yaml'), 'inputSize: 32\nbackbone:\n  widthDivisor: 8\nlevelChannels: [8, 8, 16, 32]\nheadChannels: 4\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('create / info / import-backbone commands', () => {
  it('create writes a bundle, warns about the random backbone; info --json reports params, GMACs and hashes', async () => {
    const out = join(dir, 'b');
    const c = cli('create', '--preset', 'lite', '--config', join(dir, 'small.yaml'), '--seed', '2', '--out', out);
    expect(c.stderr).toMatch(/^mmaerec-edge: warning: the resnet18 backbone is randomly initialised/);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/parameters {2}[\d.]+ M total, [\d.]+ M trainable/);
    const i = cli('info', out, '--json');
    expect(i.code).toBe(0);
    const info = JSON.parse(i.stdout);
    expect(info.input).toEqual({ width: 32, height: 32 });
    expect(info.params).toBeGreaterThan(info.trainableParams);
    expect(info.gmacs).toBeGreaterThan(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(info.files).toEqual(manifest.files);
    expect(info.backboneWeights).toBe('random');
  });

  it('info refuses a tampered bundle naming the file; create refuses bad flags', async () => {
    const out = join(dir, 't');
    expect(cli('create', '--preset', 'lite', '--config', join(dir, 'small.yaml'), '--out', out).code).toBe(0);
    const onnx = await readFile(join(out, 'model.onnx'));
    onnx[200] ^= 0xff;
    await writeFile(join(out, 'model.onnx'), onnx);
    const r = cli('info', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mmaerec-edge: ${join(out, 'model.onnx')} does not match its sha256 in the manifest (tampered or corrupted): copy the bundle again\n`);
    expect(cli('create', '--preset', 'huge', '--out', join(dir, 'x')).stderr).toMatch(/unknown preset "huge": use one of paper, lite/);
    expect(cli('create', '--out', join(dir, 'x')).stderr).toMatch(/no network config: pass --preset lite\|paper/);
    expect(cli('create', '--preset', 'lite', '--seed', '-1', '--out', join(dir, 'x')).stderr).toMatch(/--seed -1 is not a non-negative integer/);
  });

  it('import-backbone checks a torchvision file and create --backbone uses it (no random-backbone warning)', async () => {
    // resnet18/8 keeps the file small; names are torchvision's (no prefix), values random.
    const tensors = new Map(
      backboneParams('resnet18', 8).map((p) => [p.name.replace(/^backbone\./, ''), { shape: p.shape, data: new Float32Array(p.shape.reduce((a, d) => a * d, 1)).fill(0.25) }]),
    );
    tensors.set('fc.weight', { shape: [1000, 64], data: new Float32Array(64000) });
    const file = join(dir, 'r18.safetensors');
    await writeFile(file, serializeSafetensors(tensors));
    const bad = cli('import-backbone', file, '--arch', 'resnet18');
    expect(bad.code).toBe(1); // widthDivisor 1 expects torchvision's real widths
    expect(bad.stderr).toMatch(/has shape \[8,3,7,7\], resnet18 needs \[64,3,7,7\]/);
    expect(cli('import-backbone', file, '--arch', 'vgg').stderr).toMatch(/--arch vgg is not supported: use one of wide_resnet50_2, resnet18/);
    // Full-width resnet18 (to layer3): import-backbone writes it under the bundle's names.
    const full = new Map(backboneParams('resnet18').map((p) => [p.name.replace(/^backbone\./, ''), { shape: p.shape, data: new Float32Array(p.shape.reduce((a, d) => a * d, 1)).fill(0.5) }]));
    full.set('layer4.0.conv1.weight', { shape: [512, 256, 3, 3], data: new Float32Array(512 * 256 * 9) });
    await writeFile(join(dir, 'full.safetensors'), serializeSafetensors(full));
    const imp = cli('import-backbone', join(dir, 'full.safetensors'), '--arch', 'resnet18', '--out', join(dir, 'bb.safetensors'), '--json');
    expect(imp.stderr).toBe('');
    const report = JSON.parse(imp.stdout);
    expect(report).toMatchObject({ arch: 'resnet18', tensors: full.size - 1, unused: ['layer4.0.conv1.weight'] });
    const { readSafetensors } = await import('../../src/model/safetensors.js');
    const written = await readSafetensors(join(dir, 'bb.safetensors'));
    expect([...written.tensors.keys()].every((k) => k.startsWith('backbone.'))).toBe(true);
    expect(written.metadata.arch).toBe('resnet18');
    const out = join(dir, 'withbb');
    const c = cli('create', '--preset', 'lite', '--config', join(dir, 'small.yaml'), '--backbone', file, '--out', out);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(JSON.parse(cli('info', out, '--json').stdout).backboneWeights).toBe(`imported from ${file}`);
  });
});
