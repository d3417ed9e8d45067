import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/require-tool.js';

// Through main() as bin/mmaerec-edge.js calls it (main.ts as the entry script deadlocks on its import cycle).
const ENTRY = `const { main } = await import(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))}); process.exitCode = await main(process.argv.slice(2));\n`;
let dir: string;
let entry: string;
let data: string;
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, timeout: 200_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-train-cli-'));
  entry = join(dir, 'entry.mjs');
  await writeFile(entry, ENTRY);
  data = join(dir, 'good');
  await mkdir(data, { recursive: true });
  for (let i = 0; i < 5; i++) {
    const px = Buffer.alloc(32 * 32 * 3).map((_, k) => (k * (i + 3)) % 251);
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(data, `g${i}.png`));
  }
  await writeFile(
    join(dir, 'tiny.yaml'),
    'batch: 2\nbnBatches: 1\nprogress: false\nscoring: { shadingWindow: 9, mu: 0.002 }\nmodel:\n  inputSize: 32\n  backbone: { widthDivisor: 16 }\n  levelChannels: [4, 4, 8, 8]\n  headChannels: 4\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('train command', () => {
  test('bad flags and config: one line naming the problem and the fix, exit 1', async () => {
    let r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--steps', 'many']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mmaerec-edge: --steps "many" is not an integer: pass e.g. --steps 4\n');
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--aggregation', 'mean']);
    expect(r.stderr).toMatch(/^mmaerec-edge: --aggregation "mean" is unknown: use max or topk:<fraction>, optionally with ,margin:<fraction below 0.5>/);
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--aggregation', 'max,margin:0.6']);
    expect(r.stderr).toMatch(/^mmaerec-edge: --aggregation "max,margin:0.6" is unknown/);
    await writeFile(join(dir, 'even.yaml'), 'scoring: { shadingWindow: 16 }\n');
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--config', join(dir, 'even.yaml')]);
    expect(r.stderr).toBe(
      'mmaerec-edge: train options: scoring.shadingWindow: 16 is even; use 0 (off) or an odd window (e.g. 17): fix that value (see docs/training.md)\n',
    );
    await writeFile(join(dir, 'memory.yaml'), 'model:\n  memory: { levels: [2, 3] }\n');
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--config', join(dir, 'memory.yaml'), '--random-backbone', 'skip-memory']);
    expect(r.stderr).toBe(
      'mmaerec-edge: train options: model.memory.levels is [2, 3] but with a random backbone the strategy skip-memory leaves the memory modules out: pass --random-backbone bn-reestimate to keep them with a random backbone, or drop model.memory.levels\n',
    );
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--random-backbone', 'imagenet']);
    expect(r.stderr).toMatch(/^mmaerec-edge: train options: noPretrained: .*fix that value \(see docs\/training.md\)\n$/);
    await writeFile(join(dir, 'bad.yaml'), 'batch: [1\n');
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--config', join(dir, 'bad.yaml')]);
    expect(r.stderr).toMatch(/^mmaerec-edge: --config .*bad.yaml is not valid YAML\/JSON/);
    await writeFile(join(dir, 'typo.yaml'), 'batchsize: 2\n');
    r = await run(['train', '--data', data, '--out', join(dir, 'o'), '--config', join(dir, 'typo.yaml')]);
    expect(r.stderr).toMatch(/Unrecognized key.*batchsize/);
  }, 180_000); // eight CLI starts: on a loaded 2-core machine each takes seconds

  test('trains, snapshots and records the command in the manifest', async () => {
    const out = join(dir, 'bundle');
    // progress on: the export's phase lines are asserted below
    const config = join(dir, 'tiny-logged.yaml');
    await writeFile(config, (await readFile(join(dir, 'tiny.yaml'), 'utf8')).replace('progress: false\n', ''));
    const r = await run(['train', '--data', data, '--out', out, '--config', config, '--steps', '4', '--snapshot-every', '2', '--backend', 'wasm', '--lr', '0.003', '--aggregation', 'max,margin:0.1']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bundle .*bundle \(4 steps on wasm, .*final loss/);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.provenance.command).toBe(`mmaerec-edge train --data ${data} --out ${out} --config ${config} --steps 4 --snapshot-every 2 --backend wasm --lr 0.003 --aggregation max,margin:0.1`);
    // No --backbone: the default recipe's pretrained MobileNetV2 from the nsfwjs package, memory modules on (the
    // paper), the feature bank filled; its licence travels with the bundle.
    expect(manifest.provenance.backbone).toBe('default: nsfwjs@4.4.0 dist/models/mobilenet_v2');
    expect(manifest.provenance.backboneWeights).toMatchObject({ package: 'nsfwjs@4.4.0', license: 'MIT' });
    expect(manifest.provenance.noPretrained).toBeNull();
    expect(manifest.config.backbone.arch).toBe('mobilenet_v2');
    expect(manifest.config.memory.levels).toEqual([0, 1, 2, 3]);
    expect(manifest.config.featureBank).toEqual({ items: 4096, levels: [2, 3] });
    // The config's scoring and the --aggregation shorthand, the rest the paper's.
    expect(manifest.scoring).toEqual({ scales: 4, c: 0.0026, mu: 0.002, structureWindow: 21, colorWindow: 11, border: 'valid', shadingWindow: 9, aggregation: { kind: 'max', margin: 0.1 } });
    expect(await readdir(join(out, 'snapshots'))).toEqual(['step-000002']);
    const snap = JSON.parse(await readFile(join(out, 'snapshots', 'step-000002', 'manifest.json'), 'utf8'));
    expect(snap.provenance.steps).toBe(2);
    // the frozen backbone's bank is filled once, at the snapshot, and the final export reuses it
    const said = r.stdout + r.stderr;
    expect(said.match(/export \(\d+ s\): feature bank: \d+ items/g)).toHaveLength(1);
    expect(said).toMatch(/export \(\d+ s\): feature bank \(the frozen backbone's, filled at the first export\)/);
    expect(manifest.provenance.featureBank).toEqual(snap.provenance.featureBank);
    const bankOf = async (d: string): Promise<Buffer> => readFile(join(d, 'weights.safetensors'));
    expect((await bankOf(out)).length).toBe((await bankOf(join(out, 'snapshots', 'step-000002'))).length);
  }, 200_000);
});
