import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needs, ROOT, tools } from '../helpers/require-tool.js';

// Issue 20, item 1: the packed tarball installs on a machine with no compiler and scores natively (the linux-x64
// prebuilt), and where neither a prebuilt nor a build works the install says so and fails.

const work = mkdtempSync(path.join(tmpdir(), 'mmaerec-install-'));
afterAll(() => rm(work, { recursive: true, force: true }), 300_000); // the installed tree is ≈ 650 MB

/**
 * Runs a command without blocking the test worker (npm install takes minutes: a spawnSync would starve vitest's
 * own messages and time them out).
 */
function run(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A bin folder with node, npm and sh only: no g++, c++, cc, make or python on PATH. */
function compilerFreePath(): string {
  const bin = path.join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  for (const [name, target] of [['node', process.execPath], ['npm', npm], ['sh', '/bin/sh']] as const) {
    if (!existsSync(path.join(bin, name))) symlinkSync(target, path.join(bin, name));
  }
  return bin;
}

const onX64 = process.platform === 'linux' && process.arch === 'x64' ? undefined : `the host is ${process.platform}-${process.arch}; this test installs the linux-x64 prebuilt`;

needs(onX64, tools.gxx(), tools.npmRegistry()).describe('the packed tarball on a machine without a compiler', () => {
  it('installs from the registry with the prebuilt, and inspect scores on the native CPU core', async () => {
    // The prebuilt (cached in .cache/arm64 by the sources' hash: the same build the emulation suite uses).
    const prebuilt = await run('bash', [path.join(ROOT, 'scripts/prebuild.sh'), 'x64'], { cwd: ROOT });
    expect(prebuilt.status, prebuilt.stderr).toBe(0);
    const packed = await run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: ROOT });
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'plant-app', private: true }));
    const env = { HOME: process.env.HOME, PATH: compilerFreePath(), ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_cache: process.env.npm_config_cache };
    for (const tool of ['g++', 'c++', 'cc', 'make', 'python3']) {
      expect(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status, `${tool} must not be on the test PATH`).not.toBe(0);
    }
    const install = await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { cwd: app, env });
    expect(install.status, install.stdout + install.stderr).toBe(0);
    expect(install.stdout + install.stderr).toContain('mmaerec-edge native: using the prebuilt CPU core prebuilds/linux-x64/node.napi.glibc.node');
    const pkg = path.join(app, 'node_modules', 'mmaerec-edge');
    expect(existsSync(path.join(pkg, 'build')), 'nothing was compiled').toBe(false);

    const r = await run(process.execPath, [path.join(pkg, 'bin/mmaerec-edge.js'), 'inspect', '--json', '--model', path.join(pkg, 'models/demo'), path.join(pkg, 'examples/frames/crack-1.png')], { cwd: app, env });
    expect(r.status, r.stderr).toBe(2); // a defect
    expect(r.stderr).toMatch(/^scoring engine: native-cpu$/m);
    const record = JSON.parse(r.stdout.trim().split('\n')[0]!) as { verdict: string; model: { scoringEngine: string } };
    expect(record).toMatchObject({ verdict: 'defect', model: { scoringEngine: 'native-cpu' } });
  }, 1_200_000);
});

describe('install-native.mjs without a prebuilt or a compiler', () => {
  // A copy of the package's install scripts, with no prebuilts/ and no build/, run on the compiler-free PATH.
  const pkg = path.join(work, 'bare');
  mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
  for (const f of ['package.json', 'binding.gyp', 'scripts/install-native.mjs', 'scripts/build-native.mjs', 'scripts/find-tensorrt.mjs']) cpSync(path.join(ROOT, f), path.join(pkg, f));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  const install = (extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [path.join(pkg, 'scripts/install-native.mjs')], { cwd: pkg, env: { PATH: compilerFreePath(), ...extra }, encoding: 'utf8', timeout: 60_000 });

  it('fails the install with a banner naming both reasons and the fixes', () => {
    const r = install();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`mmaerec-edge: NO NATIVE SCORING CORE for ${process.platform}-${process.arch}.`);
    expect(r.stderr).toContain(`mmaerec-edge:   prebuilt: no prebuilt for ${process.platform}-${process.arch} (prebuilts: linux-x64, linux-arm64 with glibc)`);
    expect(r.stderr).toContain('mmaerec-edge native: no C++ compiler found (install g++, make and python3: apt-get install g++ make python3)');
    expect(r.stderr).toContain('To install anyway with TypeScript scoring (≈ 46× slower): MMAEREC_NATIVE_OPTIONAL=1 npm install');
  });

  it('MMAEREC_NATIVE_OPTIONAL=1 accepts the TypeScript fallback: same banner, exit 0', () => {
    const r = install({ MMAEREC_NATIVE_OPTIONAL: '1' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('NO NATIVE SCORING CORE');
  });

  it('MMAEREC_BUILD_FROM_SOURCE=1 skips the prebuilt and says so', () => {
    const r = install({ MMAEREC_BUILD_FROM_SOURCE: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mmaerec-edge:   prebuilt: skipped: MMAEREC_BUILD_FROM_SOURCE=1');
  });
});
