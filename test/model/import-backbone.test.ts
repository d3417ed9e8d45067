import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, loadBundleWeights, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { importBackbone } from '../../src/model/import-backbone.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * A torchvision state_dict's names and shapes, written out independently of src/model/backbone.ts from
 * torchvision/models/resnet.py (BasicBlock / Bottleneck, downsample = conv1x1 + BN, fc head). `upTo`
 * limits the layers (wide_resnet50_2's layer4 alone is 44 M values: left out to keep the test fast).
 */
function torchvisionStateDict(arch: 'resnet18' | 'wide_resnet50_2', upTo = 4): Map<string, number[]> {
  const sd = new Map<string, number[]>();
  const bn = (p: string, c: number) => {
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) sd.set(`${p}.${k}`, [c]);
    sd.set(`${p}.num_batches_tracked`, []);
  };
  sd.set('conv1.weight', [64, 3, 7, 7]);
  bn('bn1', 64);
  const bottleneck = arch === 'wide_resnet50_2';
  const blocks = bottleneck ? [3, 4, 6, 3] : [2, 2, 2, 2];
  const expansion = bottleneck ? 4 : 1;
  let inplanes = 64;
  for (let l = 0; l < upTo; l++) {
    const planes = 64 * 2 ** l;
    for (let b = 0; b < blocks[l]!; b++) {
      const p = `layer${l + 1}.${b}`;
      const stride = b === 0 && l > 0 ? 2 : 1;
      if (bottleneck) {
        const width = planes * 2; // width_per_group = 128
        sd.set(`${p}.conv1.weight`, [width, inplanes, 1, 1]);
        bn(`${p}.bn1`, width);
        sd.set(`${p}.conv2.weight`, [width, width, 3, 3]);
        bn(`${p}.bn2`, width);
        sd.set(`${p}.conv3.weight`, [planes * 4, width, 1, 1]);
        bn(`${p}.bn3`, planes * 4);
      } else {
        sd.set(`${p}.conv1.weight`, [planes, inplanes, 3, 3]);
        bn(`${p}.bn1`, planes);
        sd.set(`${p}.conv2.weight`, [planes, planes, 3, 3]);
        bn(`${p}.bn2`, planes);
      }
      if (stride !== 1 || inplanes !== planes * expansion) {
        sd.set(`${p}.downsample.0.weight`, [planes * expansion, inplanes, 1, 1]);
        bn(`${p}.downsample.1`, planes * expansion);
      }
      inplanes = planes * expansion;
    }
  }
  sd.set('fc.weight', [1000, 512 * expansion]);
  sd.set('fc.bias', [1000]);
  return sd;
}

/** Writes the state dict with random values (num_batches_tracked as I64, like torch.save → safetensors). */
async function writeStateDict(path: string, sd: Map<string, number[]>, seed: number, prefix = ''): Promise<Map<string, Float32Array>> {
  const r = seededRandom(seed);
  const header: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  const values = new Map<string, Float32Array>();
  let offset = 0;
  for (const [name, shape] of sd) {
    let bytes: Buffer;
    if (name.endsWith('num_batches_tracked')) {
      bytes = Buffer.from(BigInt64Array.from([12345n]).buffer);
      header[prefix + name] = { dtype: 'I64', shape, data_offsets: [offset, offset + 8] };
    } else {
      const data = new Float32Array(shape.reduce((a, d) => a * d, 1)).map(() => r() - 0.5);
      values.set(name, data);
      bytes = Buffer.from(data.buffer);
      header[prefix + name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes.length] };
    }
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([len, json, ...chunks]));
  return values;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backbone import (torchvision names)', () => {
  it('the independent state-dict generator matches torchvision\'s known sizes', () => {
    const count = (sd: Map<string, number[]>) =>
      [...sd].filter(([n]) => !/running_|num_batches/.test(n)).reduce((a, [, s]) => a + s.reduce((x, d) => x * d, 1), 0);
    expect(count(torchvisionStateDict('resnet18'))).toBe(11_689_512); // torchvision resnet18
    expect(count(torchvisionStateDict('wide_resnet50_2'))).toBe(68_883_240); // torchvision wide_resnet50_2
  });

  it('resnet18: every tensor lands where it belongs in the bundle; layer4, fc, num_batches_tracked unused', async () => {
    const path = join(dir, 'resnet18.safetensors');
    const values = await writeStateDict(path, torchvisionStateDict('resnet18'), 1);
    const imported = await importBackbone(path, 'resnet18');
    expect(imported.unused.some((n) => n.startsWith('layer4.'))).toBe(true);
    expect(imported.unused).toContain('fc.weight');
    expect(imported.unused).toContain('bn1.num_batches_tracked');
    expect(imported.unused.filter((n) => !/^(layer4\.|fc\.)|num_batches_tracked$/.test(n))).toEqual([]);
    const bundle = await writeBundle(join(dir, 'r18'), await createBundle({ config: presetConfig('lite', { inputSize: 32 }), weights: imported.weights, backboneSource: path }));
    expect(bundle.manifest.provenance.backbone).toBe(path);
    const weights = await loadBundleWeights(bundle);
    let checked = 0;
    for (const [name, data] of values) {
      if (/^(layer4\.|fc\.)/.test(name)) continue;
      expect(Buffer.from(weights.get(`backbone.${name}`)!.data.buffer).equals(Buffer.from(data.buffer)), name).toBe(true);
      checked++;
    }
    expect(checked).toBe(weights.size - [...weights.keys()].filter((n) => !n.startsWith('backbone.')).length);
  });

  it('wide_resnet50_2 (to layer3, with a DataParallel "module." prefix): every tensor lands where it belongs', async () => {
    const path = join(dir, 'wrn.safetensors');
    const values = await writeStateDict(path, torchvisionStateDict('wide_resnet50_2', 3), 2, 'module.');
    const imported = await importBackbone(path, 'wide_resnet50_2');
    expect(imported.weights.get('backbone.layer1.0.conv1.weight')!.shape).toEqual([128, 64, 1, 1]);
    expect(imported.weights.get('backbone.layer3.5.conv3.weight')!.shape).toEqual([1024, 512, 1, 1]);
    for (const [name, data] of values) {
      if (name.startsWith('fc.')) continue;
      expect(Buffer.from(imported.weights.get(`backbone.${name}`)!.data.buffer).equals(Buffer.from(data.buffer)), name).toBe(true);
    }
    expect(imported.weights.size).toBe([...values.keys()].filter((n) => !n.startsWith('fc.')).length);
  });

  it('refuses the wrong arch and an incomplete file with errors that say what to do', async () => {
    const path = join(dir, 'r18b.safetensors');
    await writeStateDict(path, torchvisionStateDict('resnet18', 1), 3);
    await expect(importBackbone(path, 'wide_resnet50_2')).rejects.toThrow(/tensor "layer1.0.conv1.weight" has shape \[64,64,3,3\], wide_resnet50_2 needs \[128,64,1,1\]: is this a wide_resnet50_2 checkpoint\? pass the matching --arch/);
    await expect(importBackbone(path, 'resnet18')).rejects.toThrow(/resnet18 tensor\(s\) missing, e.g. "layer2.0.conv1.weight".*export the full torchvision state_dict/);
  });
});
