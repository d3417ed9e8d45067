#!/usr/bin/env node
// npm's install step for the native scoring core, in sharp's order:
//   1. the CPU prebuilt for this platform (prebuilds/<platform>-<arch>/, made by scripts/prebuild.sh), when it
//      loads here: no compiler needed;
//   2. else a build from source (scripts/build-native.mjs: node-gyp, with CUDA/TensorRT when the target has them);
//   3. else the install FAILS, naming both reasons and the fixes. npm shows a dependency's install output only
//      when the script fails, so a warning with exit 0 would be silent, and scoring would quietly run ≈ 46×
//      slower in TypeScript. MMAEREC_NATIVE_OPTIONAL=1 accepts that fallback (the install then succeeds).
// MMAEREC_BUILD_FROM_SOURCE=1 (or npm's build-from-source convention, npm_config_build_from_source=true)
// skips the prebuilt: that is how a Jetson gets the CUDA/TensorRT parts, which no prebuilt has:
//   MMAEREC_BUILD_FROM_SOURCE=1 npm rebuild mmaerec-edge --foreground-scripts
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.error(`mmaerec-edge native: ${msg}`);
const env = process.env;
const fromSource = env.MMAEREC_BUILD_FROM_SOURCE === '1' || env.npm_config_build_from_source === 'true';

/** The prebuilt for this platform, loaded once to prove it works here: { path } or { reason }. */
function tryPrebuilt() {
  // PREBUILDS_ONLY: node-gyp-build would otherwise return a stale build/Release first.
  env.PREBUILDS_ONLY = '1';
  const require = createRequire(import.meta.url);
  let path;
  try {
    path = require('node-gyp-build').resolve(root);
  } catch {
    return { reason: `no prebuilt for ${process.platform}-${process.arch} (prebuilts: linux-x64, linux-arm64 with glibc)` };
  }
  try {
    require(path).info();
    return { path };
  } catch (err) {
    return { reason: `the prebuilt ${relative(root, path)} does not load here: ${String(err?.message ?? err).split('\n')[0]}` };
  }
}

let prebuiltReason = 'skipped: MMAEREC_BUILD_FROM_SOURCE=1';
if (!fromSource) {
  const prebuilt = tryPrebuilt();
  if (prebuilt.path) {
    log(`using the prebuilt CPU core ${relative(root, prebuilt.path)}; for the CUDA/TensorRT parts build on the target: MMAEREC_BUILD_FROM_SOURCE=1 npm rebuild mmaerec-edge`);
    process.exit(0);
  }
  prebuiltReason = prebuilt.reason;
  log(`${prebuiltReason}: building from source`);
}

const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status === 0) process.exit(0);

const lines = [
  `NO NATIVE SCORING CORE for ${process.platform}-${process.arch}.`,
  `  prebuilt: ${prebuiltReason}`,
  '  source build: failed (see the lines above)',
  'Fix: install a C++ toolchain (apt-get install g++ make python3) and install again,',
  '  or install on linux-x64 / linux-arm64 with glibc ≥ 2.34 (Ubuntu 22.04, JetPack 6), where the prebuilt needs no compiler.',
  'To install anyway with TypeScript scoring (≈ 46× slower): MMAEREC_NATIVE_OPTIONAL=1 npm install',
];
const banner = '='.repeat(78);
console.error(`\n${banner}\n${lines.map((l) => `mmaerec-edge: ${l}`).join('\n')}\n${banner}\n`);
process.exit(env.MMAEREC_NATIVE_OPTIONAL === '1' ? 0 : 1);
