import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBundle, loadBundle, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { writeSyntheticDataset } from './synthetic.js';
import { ROOT } from '../helpers/require-tool.js';

// As HELPERS.md runs CLIs: node --import tsx src/cli/main.ts <args> (cwd: the repository root).
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-eval-cli-'));
  data = await writeSyntheticDataset(join(dir, 'data'), { unmasked: 1 });
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('eval command', () => {
  test('bad flags: one line naming the flag and the fix, exit 1', async () => {
    let r = await run(['eval', '--data', data, '--out', join(dir, 'o')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mmaerec-edge: eval: give exactly one of --model <bundle> and --reference blur: see mmaerec-edge eval --help\n');
    r = await run(['eval', '--reference', 'blur', '--data', data, '--out', join(dir, 'o'), '--limit', 'abc']);
    expect(r.stderr).toMatch(/^mmaerec-edge: eval: --limit must be a number: see mmaerec-edge eval --help\n$/);
    r = await run(['eval', '--reference', 'blur', '--data', data, '--out', join(dir, 'o'), '--mask-resize', 'bilinear']);
    expect(r.stderr).toMatch(/--mask-resize must be nearest or area/);
  });

  test('a folder not in the layout: E_DATA in one line', async () => {
    const r = await run(['eval', '--reference', 'blur', '--size', '32', '--data', join(dir, 'data', 'test'), '--out', join(dir, 'o')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mmaerec-edge: .*\/data\/test has no test\/ folder; expected train\/good\/, test\/good\/, test\/<defect>\/ .* but found good\/, scratch\/, spot\/: point --data at such a folder or fix the layout\n$/);
  });

  test('--reference blur writes every output, prints the table, shows progress on stderr', async () => {
    const out = join(dir, 'ref');
    const r = await run(['eval', '--reference', 'blur', '--size', '32', '--data', data, '--out', out, '--save-maps']);
    expect(r.stderr).toMatch(/eval \[#+\] 10\/10 100\.0%/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^subset +good +defect +imgAUROC/);
    expect(r.stdout).toMatch(/\nspot +4 +3 /);
    for (const f of ['metrics.json', 'scores.json', 'labels.json', 'report.html', 'maps/spot/spot0.npy']) expect(existsSync(join(out, f))).toBe(true);
    const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(m.model).toMatchObject({ reference: 'blur', sigma: 2, size: 32 });
    expect(m.overall.imageAuroc).toBeGreaterThan(0.5);
  });

  test('--scoring replaces scoring keys (reference and bundle); bad values: one line naming the key', async () => {
    const plain = join(dir, 'plain');
    const scored = join(dir, 'scored');
    expect((await run(['eval', '--reference', 'blur', '--size', '32', '--data', data, '--out', plain, '--gallery', '0'])).code).toBe(0);
    let r = await run(['eval', '--reference', 'blur', '--size', '32', '--data', data, '--out', scored, '--gallery', '0', '--scoring', '{shadingWindow: 9, mu: 0.004}']);
    expect(r.code).toBe(0);
    const m = JSON.parse(await readFile(join(scored, 'metrics.json'), 'utf8'));
    expect(m.model.scoring).toMatchObject({ shadingWindow: 9, mu: 0.004, scales: 4 });
    const [a, b] = await Promise.all([plain, scored].map(async (o) => JSON.parse(await readFile(join(o, 'scores.json'), 'utf8')) as Record<string, number>));
    expect(Object.keys(b)).toEqual(Object.keys(a!));
    expect(Object.keys(a!).filter((k) => Math.abs(a![k]! - b![k]!) > 1e-6).length).toBeGreaterThan(0);

    const bundle = join(dir, 'scored-bundle');
    const config = presetConfig('lite', { inputSize: 32, levelChannels: [4, 4, 8, 8], headChannels: 4, backbone: { widthDivisor: 8 } });
    await writeBundle(bundle, await createBundle({ config }));
    r = await run(['eval', '--model', bundle, '--data', data, '--out', join(dir, 'scored-model'), '--gallery', '0', '--json', '--scoring', '{aggregation: {kind: max, margin: 0.1}}']);
    expect(r.code).toBe(0);
    const mb = JSON.parse(r.stdout);
    expect(mb.model.scoringOverride).toEqual({ aggregation: { kind: 'max', margin: 0.1 } });
    expect(mb.model.scoring.aggregation).toEqual({ kind: 'max', margin: 0.1 });
    expect(mb.threshold.source).toBe('best F1 on this data'); // the bundle's thresholds belong to its own scoring

    r = await run(['eval', '--reference', 'blur', '--data', data, '--out', scored, '--scoring', '{shadingWindow: 8}']);
    expect(r.stderr).toBe('mmaerec-edge: --scoring: shadingWindow: 8 is even; use 0 (off) or an odd window (e.g. 9): fix that key (docs/configuration.md lists the scoring keys)\n');
    r = await run(['eval', '--reference', 'blur', '--data', data, '--out', scored, '--scoring', '{shading: 9}']);
    expect(r.stderr).toBe('mmaerec-edge: --scoring: (root): Unrecognized key: "shading": fix that key (docs/configuration.md lists the scoring keys)\n');
    r = await run(['eval', '--reference', 'blur', '--data', data, '--out', scored, '--scoring', join(dir, 'none.yaml')]);
    expect(r.stderr).toMatch(/^mmaerec-edge: --scoring .*none\.yaml: cannot read it \(ENOENT\): pass an inline mapping like '\{shadingWindow: 17\}' or a YAML\/JSON file\n$/);
  }, 60_000);
});

describe('calibrate command', () => {
  test('--dry-run reports thresholds and rates, leaves the manifest; then writes it', async () => {
    const bundle = join(dir, 'bundle');
    const config = presetConfig('lite', { inputSize: 32, levelChannels: [4, 4, 8, 8], headChannels: 4, backbone: { widthDivisor: 8 } });
    const before = (await writeBundle(bundle, await createBundle({ config }))).sha256;
    let r = await run(['calibrate', '--model', bundle, '--data', data, '--rule', 'f1', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^image threshold [\d.e+-]+, pixel threshold [\d.e+-]+\nsource: calibrate --rule f1 on .*\n(warning: .*\n)*.*\n  images: false alarms [\d.]+%, misses [\d.]+%\n  pixels: false alarms [\d.]+%, misses [\d.]+%\ndry run: manifest unchanged\n$/);
    // the default rule: a false-alarm budget on good images, with its uncertainty and the warning that 4 images are few
    r = await run(['calibrate', '--model', bundle, '--data', data, '--rate', '0.05', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nsource: calibrate --rule false-alarm 5 % \((gumbel|data-bound); pixels p99\.9\) on .* test\/good \(4 images\)\noperating point: 5\.00% false alarms \((gumbel|data-bound) on 4 good images; \d at or above; 95 % range of the rate [\d.]+%–[\d.]+%; threshold range [\d.e+-]+–[\d.e+-]+\)\nwarning: 4 good images cannot show a 5 % false-alarm rate/);
    expect((await loadBundle(bundle)).sha256).toBe(before);
    r = await run(['calibrate', '--model', bundle, '--data', data, '--rule', 'good-percentile', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const after = await loadBundle(bundle);
    expect(after.sha256).toBe(result.manifestSha256.after);
    expect(after.manifest.thresholds.image).toBe(result.thresholds.image);
    r = await run(['calibrate', '--model', bundle, '--data', data, '--rule', 'median']);
    expect(r.stderr).toBe('mmaerec-edge: calibrate: --rule must be false-alarm, f1 or good-percentile: see mmaerec-edge calibrate --help\n');
  });
});
