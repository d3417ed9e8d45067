import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestFunction } from 'vitest';
import { nativeStatus } from '../../src/native.js';
import { noPostgres } from './postgres.js';
import { CHROMIUM } from './browser.js';

/**
 * Tests that need an installed tool (a broker, a browser, python with numpy, ffmpeg, the dataset in ../shared).
 * Where the tool is missing such a test is skipped and its name says why; under CI=true (the `.ci/run`
 * machine, where scripts/ci-system-deps.sh installed everything) it FAILS instead, like
 * `scripts/test-arm64.sh --strict`: a green CI run then means every test ran.
 *
 *   needs(tools.ffmpeg()).describe('FfmpegSource', () => { ... });
 *   needs(tools.mosquitto(), tools.openssl()).it('runs end to end', async () => { ... });
 */

/** Why a tool is unusable here (with the fix), or undefined when it is usable. */
export type Missing = string | undefined;

/** The checkout under test: every test runs this tree, whatever the working directory. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** True under CI=true (or 1): a missing tool fails instead of skipping. */
export const strict = (env: NodeJS.ProcessEnv = process.env): boolean => env.CI === 'true' || env.CI === '1';

/** What becomes of a test whose tool is `missing`: run, skip (naming why) or, under CI, fail. */
export function outcome(missing: Missing, ci = strict()): 'run' | 'skip' | 'fail' {
  return missing === undefined ? 'run' : ci ? 'fail' : 'skip';
}

const failure = (why: string) =>
  new Error(`${why}; CI=true fails instead of skipping: install it (scripts/ci-system-deps.sh) or run the tests without CI=true`);

type Describe = (name: string, fn: () => void) => void;
type It = (name: string, fn: TestFunction, timeout?: number) => void;

/** describe/it/test that run when every tool is there, skip naming the first missing one, or fail under CI. */
export function needs(...missing: Missing[]): { describe: Describe; it: It; test: It } {
  const why = missing.find((m) => m !== undefined);
  const what = outcome(why);
  const suite: Describe = (name, fn) => {
    if (what === 'run') describe(name, fn);
    else if (what === 'skip') describe.skip(`${name} (skipped: ${why})`, fn);
    else describe(name, () => it(`needs a missing tool: ${why}`, () => { throw failure(why!); }));
  };
  const test: It = (name, fn, timeout) => {
    if (what === 'run') it(name, fn, timeout);
    else if (what === 'skip') it.skip(`${name} (skipped: ${why})`, fn);
    else it(name, () => { throw failure(why!); });
  };
  return { describe: suite, it: test, test };
}

const runs = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return !r.error && r.status === 0;
};
const firstFile = (paths: string[]) => paths.find((p) => existsSync(p));

export const PYTHON = '/usr/bin/python3';
export { CHROMIUM } from './browser.js';
export const DATASET = path.join(ROOT, '..', 'shared', 'datasets', 'magnetic_tile');

/** Probes, each memoised: undefined when usable, else why not and what to install. */
const memo = <T>(f: () => T) => {
  let done = false;
  let v: T;
  return () => (done ? v! : ((done = true), (v = f())));
};

export const tools = {
  ffmpeg: memo((): Missing => (runs('ffmpeg', ['-version']) ? undefined : 'ffmpeg is not on PATH (apt-get install ffmpeg)')),
  gstreamer: memo((): Missing =>
    runs('gst-launch-1.0', ['--version']) ? undefined : 'gst-launch-1.0 is not on PATH (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-libav)'),
  mosquitto: memo((): Missing =>
    firstFile(['/usr/sbin/mosquitto', '/usr/bin/mosquitto']) ? undefined : 'mosquitto is not installed (apt-get install mosquitto)'),
  postgres: memo((): Missing => noPostgres()),
  openssl: memo((): Missing => (firstFile(['/usr/bin/openssl', '/usr/local/bin/openssl']) ? undefined : 'openssl is not installed (apt-get install openssl)')),
  chromium: memo((): Missing => (existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`)),
  numpy: memo((): Missing => (runs(PYTHON, ['-c', 'import numpy']) ? undefined : `${PYTHON} cannot import numpy (apt-get install python3-numpy)`)),
  onnx: memo((): Missing => (runs(PYTHON, ['-c', 'import onnx']) ? undefined : `${PYTHON} cannot import onnx (apt-get install python3-onnx)`)),
  gxx: memo((): Missing => (runs('g++', ['--version']) ? undefined : 'g++ is not on PATH (apt-get install g++)')),
  npmRegistry: memo((): Missing =>
    runs('npm', ['view', 'node-gyp-build', 'version', '--loglevel=error']) ? undefined : 'the npm registry is not reachable (npm view node-gyp-build failed): check the network or the registry setting'),
  dataset: memo((): Missing =>
    existsSync(path.join(DATASET, 'test')) ? undefined : `the magnetic_tile dataset is not at ${DATASET} (check out ../shared beside the repository)`),
  native: memo((): Missing => {
    const s = nativeStatus();
    return s.loaded ? undefined : `the native addon is not loaded (${s.reason}): run npm run build:native`;
  }),
};
