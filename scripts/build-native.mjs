#!/usr/bin/env node
// Builds the native addon from source into build/Release (`npm run build:native`; npm's install step runs it
// through scripts/install-native.mjs when no prebuilt fits or MMAEREC_BUILD_FROM_SOURCE=1). Exits 1 when it
// cannot build: install-native.mjs decides what that means for the install.
//  - Offline: node-gyp downloads Node's headers unless told where they are; when /usr/include/node exists
//    and no nodedir is configured (npm config or npm_config_nodedir), it passes --nodedir=/usr.
//  - CUDA: when nvcc is found (MMAEREC_NVCC, PATH or $CUDA_HOME/bin) the CUDA kernels are built in, linked
//    with the static CUDA runtime. MMAEREC_CUDA=0 skips them; MMAEREC_CUDA_GENCODE overrides the targets.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTensorRT } from './find-tensorrt.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.error(`mmaerec-edge native: ${msg}`);

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findNvcc() {
  if (process.env.MMAEREC_CUDA === '0') return null;
  if (process.env.MMAEREC_NVCC) return process.env.MMAEREC_NVCC;
  const onPath = which('nvcc');
  if (onPath) return onPath;
  for (const home of [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']) {
    if (home && existsSync(join(home, 'bin', 'nvcc'))) return join(home, 'bin', 'nvcc');
  }
  return null;
}

function cudaHome(nvcc) {
  // nvcc may be a wrapper script (/usr/local/bin/nvcc); its dry run says where the real one lives.
  if (process.env.CUDA_HOME) return process.env.CUDA_HOME;
  const r = spawnSync(nvcc, ['--dryrun', '-c', '-x', 'cu', '/dev/null', '-o', '/dev/null'], { encoding: 'utf8' });
  const m = /_HERE_=(\S+)/.exec(`${r.stdout}${r.stderr}`);
  return resolve(m ? m[1] : dirname(nvcc), '..');
}

function nodeGypBin() {
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function fail(msg) {
  log(msg);
  process.exit(1);
}

if (!which(process.env.CXX || 'c++') && !which('g++') && !which('clang++')) {
  fail('no C++ compiler found (install g++, make and python3: apt-get install g++ make python3)');
}
if (!which('make')) fail('make is not on PATH (node-gyp needs it: apt-get install make)');
if (!which('python3') && !which('python')) fail('python3 is not on PATH (node-gyp needs it: apt-get install python3)');
const gyp = nodeGypBin();
if (!gyp) fail('node-gyp is not installed (it is a dependency: reinstall the package)');

const args = [gyp, 'rebuild'];
const configuredNodedir = process.env.npm_config_nodedir;
if (!configuredNodedir && existsSync('/usr/include/node/node_api.h')) {
  // Headers of the system Node: no download needed (offline machines).
  args.push('--nodedir=/usr');
}
const env = { ...process.env };
const nvcc = findNvcc();
if (nvcc) {
  env.MMAEREC_WITH_CUDA = 'true';
  env.MMAEREC_NVCC = nvcc;
  env.MMAEREC_CUDA_HOME = cudaHome(nvcc);
  log(`building with CUDA kernels (nvcc: ${nvcc}, CUDA home: ${env.MMAEREC_CUDA_HOME})`);
} else {
  env.MMAEREC_WITH_CUDA = 'false';
  log('nvcc not found: building the CPU-only addon (set MMAEREC_NVCC or CUDA_HOME to add the CUDA kernels)');
}
configureTensorRT(env);
const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) fail(`node-gyp rebuild failed (exit ${r.status ?? r.signal})`);
log('built build/Release/mmaerec_native.node');

// --- TensorRT (issue 8, the TensorRT back end's part of this script) -------------------------------------------
// Sets the variables of binding.gyp's TensorRT block. Detection (TENSORRT_ROOT, JetPack and x86 install paths, the
// CUDA it needs) lives in scripts/find-tensorrt.mjs. Without TensorRT the addon is built without it, and the SDK
// says so at run time and uses ONNX Runtime. MMAEREC_TENSORRT=0 skips it.
function configureTensorRT(env) {
  const targetArch = process.env.npm_config_arch || process.arch;
  const trt = findTensorRT(targetArch);
  if (!trt.found) {
    env.MMAEREC_WITH_TENSORRT = 'false';
    log(`TensorRT not found (${trt.reason}): building without the TensorRT back end (set TENSORRT_ROOT to add it)`);
    return;
  }
  env.MMAEREC_WITH_TENSORRT = 'true';
  env.MMAEREC_TENSORRT_INCLUDE = trt.include;
  env.MMAEREC_TENSORRT_LIB = trt.lib;
  env.MMAEREC_TENSORRT_CUDA_INCLUDE = trt.cudaInclude;
  env.MMAEREC_TENSORRT_CUDA_LIB = trt.cudaLib;
  log(`building with TensorRT ${trt.version} (${trt.via}: ${trt.include}, ${trt.lib}; CUDA ${trt.cudaInclude})`);
}
