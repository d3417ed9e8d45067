#!/usr/bin/env node
// Finds TensorRT (and the CUDA it needs) for the addon build: scripts/build-native.mjs imports findTensorRT();
// the command line is for people and tests:
//
//   node scripts/find-tensorrt.mjs <field> [target_arch]    field: found | include | lib | cuda-include | cuda-lib | reason
//   node scripts/find-tensorrt.mjs --json [target_arch]     everything, for humans and scripts/build-native.mjs
//
// Search order: TENSORRT_ROOT (a folder with include/ and lib/, as NVIDIA's tarball unpacks), then the package
// install paths: JetPack (/usr/include/aarch64-linux-gnu + /usr/lib/aarch64-linux-gnu) for arm64 targets, the x86
// .deb paths (/usr/include/x86_64-linux-gnu + /usr/lib/x86_64-linux-gnu) and /usr/local/tensorrt for x64 targets.
// Found means NvInfer.h AND NvOnnxParser.h AND libnvinfer.so + libnvonnxparser.so (the -dev packages' link names)
// AND CUDA's cuda_runtime_api.h + libcudart_static.a (the addon links the static CUDA runtime, like the CUDA kernels).
// MMAEREC_TENSORRT=0 turns it off (cross builds, or to force the ONNX Runtime path).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The unversioned lib<name>.so is what `-l<name>` links; it comes with the -dev package (libnvinfer-dev). */
function hasLib(dir, name) {
  return existsSync(join(dir, `lib${name}.so`));
}

function headerVersion(include) {
  try {
    const text = readFileSync(join(include, 'NvInferVersion.h'), 'utf8');
    // 10.x defines NV_TENSORRT_MAJOR 10 directly; 11.x defines it through TRT_MAJOR_ENTERPRISE.
    const pick = (k) => text.match(new RegExp(`#define (?:NV_TENSORRT_${k}|TRT_${k}_ENTERPRISE) (\\d+)`))?.[1];
    const [ma, mi, pa] = [pick('MAJOR'), pick('MINOR'), pick('PATCH')];
    return ma ? `${ma}.${mi ?? 0}.${pa ?? 0}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

function candidates(targetArch) {
  const out = [];
  const root = process.env.TENSORRT_ROOT;
  if (root) out.push({ include: join(root, 'include'), lib: join(root, 'lib'), via: 'TENSORRT_ROOT' });
  if (targetArch === 'arm64') {
    out.push({ include: '/usr/include/aarch64-linux-gnu', lib: '/usr/lib/aarch64-linux-gnu', via: 'JetPack' });
  } else if (targetArch === 'x64') {
    out.push({ include: '/usr/include/x86_64-linux-gnu', lib: '/usr/lib/x86_64-linux-gnu', via: 'x86 package' });
    out.push({ include: '/usr/local/tensorrt/include', lib: '/usr/local/tensorrt/lib', via: '/usr/local/tensorrt' });
  }
  return out;
}

function findCuda() {
  // An explicit CUDA_HOME/CUDA_PATH is used alone: pointing at a toolkit and silently getting another would be worse.
  const explicit = process.env.CUDA_HOME || process.env.CUDA_PATH;
  const dirs = explicit ? [explicit] : ['/usr/local/cuda'];
  for (const d of dirs) {
    if (existsSync(join(d, 'include', 'cuda_runtime_api.h'))) {
      const lib = ['lib64', 'lib', 'targets/aarch64-linux/lib', 'targets/x86_64-linux/lib'].map((l) => join(d, l)).find((l) => existsSync(join(l, 'libcudart_static.a')));
      if (lib) return { include: join(d, 'include'), lib };
    }
  }
  return undefined;
}

/**
 * Where TensorRT is for `targetArch` ('arm64' | 'x64'): { found: true, include, lib, version, via, cudaInclude,
 * cudaLib } or { found: false, reason }. Used by scripts/build-native.mjs and by the CLI below.
 */
export function findTensorRT(targetArch = process.arch) {
  if (process.env.MMAEREC_TENSORRT === '0') return { found: false, reason: 'MMAEREC_TENSORRT=0' };
  const tried = [];
  for (const c of candidates(targetArch)) {
    const missing = [];
    if (!existsSync(join(c.include, 'NvInfer.h'))) missing.push('NvInfer.h');
    if (!existsSync(join(c.include, 'NvOnnxParser.h'))) missing.push('NvOnnxParser.h');
    if (!hasLib(c.lib, 'nvinfer')) missing.push('libnvinfer.so');
    if (!hasLib(c.lib, 'nvonnxparser')) missing.push('libnvonnxparser.so');
    if (missing.length) {
      tried.push(`${c.via} (${c.include}): no ${missing.join(', ')}`);
      continue;
    }
    const cuda = findCuda();
    if (!cuda) return { found: false, reason: `TensorRT found via ${c.via} but no CUDA toolkit (cuda_runtime_api.h + libcudart_static.a) in ${process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda'}: set CUDA_HOME` };
    return { found: true, include: c.include, lib: c.lib, version: headerVersion(c.include), via: c.via, cudaInclude: cuda.include, cudaLib: cuda.lib, reason: '' };
  }
  return { found: false, reason: tried.length ? tried.join('; ') : `no TensorRT search path for target ${targetArch}; set TENSORRT_ROOT` };
}

function cli() {
  const args = process.argv.slice(2);
  const field = args[0] ?? '--json';
  const targetArch = args[1] ?? process.arch;
  const r = findTensorRT(targetArch);
  const fields = {
  found: r.found ? 'true' : 'false',
  include: r.include ?? '',
  lib: r.lib ?? '',
  'cuda-include': r.cudaInclude ?? '',
  'cuda-lib': r.cudaLib ?? '',
    reason: r.reason,
  };
  if (field === '--json') process.stdout.write(JSON.stringify({ targetArch, ...r }, null, 2) + '\n');
  else if (field in fields) process.stdout.write(fields[field]);
  else {
    process.stderr.write(`find-tensorrt: unknown field "${field}": use one of ${Object.keys(fields).join(', ')} or --json\n`);
    process.exit(2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) cli();
