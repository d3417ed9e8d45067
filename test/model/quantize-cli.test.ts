import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { runCli, writeCliEntry } from '../helpers/cli.js';

let dir: string;
let entry: string;
let bundle: string;
let calib: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-quantize-cli-'));
  entry = await writeCliEntry(dir);
  calib = join(dir, 'good');
  await mkdir(calib);
  for (let n = 0; n < 3; n++) {
    const px = Buffer.from(Array.from({ length: 40 * 40 * 3 }, (_, i) => (i * (n + 3)) % 251));
    await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(calib, `g${n}.png`));
  }
  bundle = join(dir, 'b');
  const config = presetConfig('lite', { inputSize: 32, backbone: { widthDivisor: 8 }, levelChannels: [8, 8, 16, 32], headChannels: 8 });
  await writeBundle(bundle, await createBundle({ config }));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mmaerec-edge quantize', () => {
  it('writes model.int8.onnx, says what it did, and inspect --precision int8 runs it', async () => {
    const q = await runCli(entry, ['quantize', '--model', bundle, '--calib', calib, '--calib-limit', '2']);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^int8 model .*model\.int8\.onnx \([\d.]+ MiB; \d+ convs int8, 15 float\)\ncalibration percentile 99\.99 on 2 samples from 2 images \(sha256 [0-9a-f]{12}…\)\ncheck {4}\|recon int8 − fp32\| mean [\d.e+-]+ \([\d.]+ % of its spread\), max [\d.e+-]+ on 2 samples\nuse it {3}--precision int8/);
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8'));
    expect(manifest.variants.int8.calibration.images).toBe(2);
    const i = await runCli(entry, ['inspect', bundle, join(calib, 'g0.png'), '--precision', 'int8', '--json']);
    expect([0, 2]).toContain(i.code);
    expect(JSON.parse(i.stdout.split('\n')[0]!).model.backend).toBe('onnxruntime-cpu-int8');
  }, 120_000);

  it('bad flags and an empty folder: exit 1 with one line naming the fix', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const e = await runCli(entry, ['quantize', '--model', bundle, '--calib', empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^mmaerec-edge: calibration folder .* holds no images .*: point --calib at a folder of good images.*\n$/);
    const r = await runCli(entry, ['quantize', '--model', bundle, '--calib', calib, '--rule', 'entropy']);
    expect(r.stderr).toBe('mmaerec-edge: --rule "entropy" is unknown: use percentile or mse\n');
    const p = await runCli(entry, ['inspect', bundle, join(calib, 'g0.png'), '--precision', 'int4']);
    expect(p.stderr).toMatch(/^mmaerec-edge: --precision "int4" is unknown: use fp32 or int8/);
  }, 60_000);
});
