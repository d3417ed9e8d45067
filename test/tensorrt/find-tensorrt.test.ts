import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Detection only: the fixture is a folder layout with empty files of the right names (never compiled or linked).
let root: string;
let cuda: string;

const find = (env: Record<string, string>, ...args: string[]) =>
  execFileSync(process.execPath, ['scripts/find-tensorrt.mjs', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mmaerec-find-trt-'));
  root = join(dir, 'TensorRT-10.3.0');
  cuda = join(dir, 'cuda');
  await mkdir(join(root, 'include'), { recursive: true });
  await mkdir(join(root, 'lib'));
  await mkdir(join(cuda, 'include'), { recursive: true });
  await mkdir(join(cuda, 'lib64'));
  await writeFile(join(root, 'include', 'NvInferVersion.h'), '#define NV_TENSORRT_MAJOR 10\n#define NV_TENSORRT_MINOR 3\n#define NV_TENSORRT_PATCH 0\n');
  await writeFile(join(root, 'lib', 'libnvinfer.so.10'), ''); // runtime only: not linkable without the -dev symlink
  await writeFile(join(cuda, 'include', 'cuda_runtime_api.h'), '');
  await writeFile(join(cuda, 'lib64', 'libcudart_static.a'), '');
});
afterAll(async () => {
  await rm(join(root, '..'), { recursive: true, force: true });
});

describe('scripts/find-tensorrt.mjs', () => {
  it('names every missing piece under TENSORRT_ROOT', () => {
    expect(find({ TENSORRT_ROOT: root, CUDA_HOME: cuda }, 'found')).toBe('false');
    expect(find({ TENSORRT_ROOT: root, CUDA_HOME: cuda }, 'reason')).toMatch(/^TENSORRT_ROOT \(.*include\): no NvInfer\.h, NvOnnxParser\.h, libnvinfer\.so, libnvonnxparser\.so$/);
  });

  it('finds a complete TENSORRT_ROOT with CUDA, and reads its version', async () => {
    await writeFile(join(root, 'include', 'NvInfer.h'), '');
    await writeFile(join(root, 'include', 'NvOnnxParser.h'), '');
    await writeFile(join(root, 'lib', 'libnvinfer.so'), '');
    await writeFile(join(root, 'lib', 'libnvonnxparser.so'), '');
    const r = JSON.parse(find({ TENSORRT_ROOT: root, CUDA_HOME: cuda }, '--json', 'arm64'));
    expect(r).toMatchObject({ found: true, version: '10.3.0', via: 'TENSORRT_ROOT', include: join(root, 'include'), lib: join(root, 'lib'), cudaInclude: join(cuda, 'include'), cudaLib: join(cuda, 'lib64') });
    expect(find({ TENSORRT_ROOT: root, CUDA_HOME: cuda }, 'include')).toBe(join(root, 'include'));
  });

  it('needs CUDA too, and MMAEREC_TENSORRT=0 turns it off', () => {
    expect(find({ TENSORRT_ROOT: root, CUDA_HOME: join(root, 'nope') }, 'reason')).toMatch(/^TensorRT found via TENSORRT_ROOT but no CUDA toolkit \(cuda_runtime_api\.h \+ libcudart_static\.a\) in .*nope: set CUDA_HOME$/);
    expect(find({ TENSORRT_ROOT: root, CUDA_HOME: cuda, MMAEREC_TENSORRT: '0' }, 'found')).toBe('false');
    expect(() => find({}, 'bogus')).toThrow(/unknown field "bogus"/);
  });
});
