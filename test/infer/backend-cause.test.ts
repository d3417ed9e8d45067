import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmaerecError } from '../../src/errors.js';
import { createBackend, registerBackend } from '../../src/infer/registry.js';
import type { LoadedBundle } from '../../src/model/bundle.js';
import { tinyBundle } from '../pipeline/helpers.js';

// An unloadable model.onnx: the real cause comes first, then its fix; what the machine lacks (TensorRT) is
// named briefly after it, not 600 characters of install advice in front (issue 15, item 12).

let dir: string;
let bundle: LoadedBundle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-backend-cause-'));
  bundle = await tinyBundle(path.join(dir, 'bundle'));
  // Loaded first, then the file broken: createBackend does not verify hashes, so ONNX Runtime sees the junk.
  await writeFile(bundle.paths.onnx, Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x7f]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ADVICE = 'on a Jetson install JetPack 6 (TensorRT 10.3; `sudo apt install nvidia-jetpack`), on x86 install TensorRT 10 and set TENSORRT_ROOT to it, then run `npm run build:native` (see docs/tensorrt.md)';

describe('why no back end could load a bundle', () => {
  it('onnxruntime alone: the parse error without ONNX Runtime\'s "Load model from … failed:" wrapper', async () => {
    const err = await createBackend(bundle, { backend: 'onnxruntime', device: 'cpu' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MmaerecError);
    expect((err as Error).message).toBe(`onnxruntime cannot load ${bundle.paths.onnx} (cpu: Protobuf parsing failed): recreate the bundle`);
  });

  it('auto: the cause first, the back end this machine lacks after it and without its install advice', async () => {
    const unregister = registerBackend({
      name: 'tensorrt',
      priority: 100,
      create: async () => {
        throw new MmaerecError('E_UNSUPPORTED', `the TensorRT back end needs TensorRT, but the native addon was built without TensorRT (no TensorRT headers/libraries were found at build time): ${ADVICE}`);
      },
    });
    try {
      const err = await createBackend(bundle, { device: 'cpu' }).catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'E_INFER' });
      expect((err as Error).message).toBe(
        `no inference back end could load ${bundle.dir}: onnxruntime cannot load ${bundle.paths.onnx} (cpu: Protobuf parsing failed): recreate the bundle; ` +
          'not available on this machine: tensorrt (the TensorRT back end needs TensorRT, but the native addon was built without TensorRT (no TensorRT headers/libraries were found at build time); docs/tensorrt.md)',
      );
    } finally {
      unregister();
    }
  });

  it('when every back end is only unavailable, each keeps its full reason and fix', async () => {
    const unregisterTrt = registerBackend({ name: 'tensorrt', priority: 100, create: async () => { throw new MmaerecError('E_UNSUPPORTED', 'no GPU: use onnxruntime'); } });
    const unregisterOrt = registerBackend({ name: 'onnxruntime', priority: 10, create: async () => { throw new MmaerecError('E_UNSUPPORTED', 'onnxruntime-node cannot load (x): reinstall it'); } });
    try {
      const err = await createBackend(bundle).catch((e: Error) => e);
      expect((err as Error).message).toBe(`no inference back end could load ${bundle.dir}: tensorrt: no GPU: use onnxruntime; onnxruntime: onnxruntime-node cannot load (x): reinstall it`);
    } finally {
      unregisterOrt();
      unregisterTrt();
    }
  });
});
