import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, writeBundle } from '../../src/model/bundle.js';
import { presetConfig } from '../../src/model/config.js';
import { ROOT } from '../helpers/require-tool.js';

let dir: string;
let bundleDir: string;

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mmaerec-trt-cli-'));
  bundleDir = join(dir, 'bundle');
  await writeBundle(bundleDir, await createBundle({ config: presetConfig('lite', { inputSize: 32 }), seed: 1 }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mmaerec-edge build-engine on a machine without TensorRT', () => {
  it('exits non-zero and says how to get TensorRT, without a stack trace', () => {
    const run = cli('build-engine', '--model', bundleDir, '--fp16');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^mmaerec-edge: build-engine needs TensorRT, but the native addon (is not loaded|was built without TensorRT)/);
    expect(run.stderr).toMatch(/JetPack 6 \(TensorRT 10\.3; `sudo apt install nvidia-jetpack`\).*TENSORRT_ROOT.*`npm run build:native`/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
  });

  it('checks flags before looking for TensorRT', () => {
    const run = cli('build-engine', '--model', bundleDir, '--int8');
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('mmaerec-edge: --int8 needs calibration images: add --calib <dir of good images> (the same kind of images the model was trained on)');
    const ws = cli('build-engine', '--model', bundleDir, '--workspace', 'big');
    expect(ws.stderr.trim()).toBe('mmaerec-edge: build-engine option workspace: --workspace must be a whole number: see `mmaerec-edge build-engine --help`');
    const batch = cli('build-engine', '--model', bundleDir, '--max-batch', '65');
    expect(batch.stderr.trim()).toBe('mmaerec-edge: build-engine option maxBatch: --max-batch must be at most 64: see `mmaerec-edge build-engine --help`');
  });

  it('requires --model and lists the flags in --help', () => {
    expect(cli('build-engine').status).not.toBe(0);
    const help = cli('build-engine', '--help');
    expect(help.stdout).toMatch(/--int8/);
    expect(help.stdout).toMatch(/--calib <dir>/);
    expect(help.stdout).toMatch(/--workspace <MiB>/);
    expect(help.stdout).toMatch(/--max-batch <n> +frames of several cameras per inference/);
  });
});
