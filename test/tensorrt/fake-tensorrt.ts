import { readFile, writeFile } from 'node:fs/promises';
import type { NativeBuildOptions, NativeDevice, NativeEngine, TensorRTAvailability, TensorRTNative } from '../../src/engine/addon.js';
import type { NativeFusedParams } from '../../src/native.js';

/**
 * A test double of the addon's TensorRT interface (native/glue/tensorrt.h), for the TypeScript logic
 * around it: option hand-off, metadata, checks before loading, call queueing. It is NOT TensorRT: the "plan" it
 * writes is a marker file and its "network" computes recon = 0.5·image + edge (the C++ test's tiny engine).
 */
export interface FakeCalls {
  builds: NativeBuildOptions[];
  calibrationBytes: number[];
  inferInFlight: number;
  /** The params and wantRecon of every inferScore call. */
  scored: { params: NativeFusedParams; wantRecon: boolean }[];
  maxInFlight: number;
}

export function fakeTensorRT(device: Partial<NativeDevice> = {}, library = '10.3.0'): { availability: TensorRTAvailability; calls: FakeCalls } {
  const calls: FakeCalls = { builds: [], calibrationBytes: [], inferInFlight: 0, maxInFlight: 0, scored: [] };
  class Engine implements NativeEngine {
    private size = 0;
    async load(planPath: string): Promise<{ width: number; height: number }> {
      const text = await readFile(planPath, 'utf8');
      const m = /^FAKE-PLAN (\d+)x(\d+)/.exec(text);
      if (!m) throw new Error(`TensorRT ${library} cannot load the engine ${planPath}: rebuild it`);
      this.size = Number(m[1]) * Number(m[2]);
      return { width: Number(m[1]), height: Number(m[2]) };
    }
    async infer(image: Float32Array, edge: Float32Array): Promise<Float32Array> {
      calls.inferInFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inferInFlight);
      await new Promise((r) => setTimeout(r, 5));
      calls.inferInFlight--;
      return image.map((v, i) => 0.5 * v + edge[i % this.size]!);
    }
    // As the GPU path would answer: a map (here the reconstruction's first plane, so the margin is visible), its
    // max as the score, the reconstruction only when asked.
    async inferScore(image: Float32Array, edge: Float32Array, params: NativeFusedParams, wantRecon: boolean) {
      calls.scored.push({ params, wantRecon });
      const recon = await this.infer(image, edge);
      const map = recon.slice(0, this.size);
      return { map, score: Math.max(...map), ...(wantRecon ? { recon } : {}) };
    }
    async dispose(): Promise<void> {}
  }
  const trt: TensorRTNative = {
    version: () => ({ headers: library, library }),
    queryDevice: async (index) => ({ index, name: 'Orin', computeCapability: '8.7', totalMemoryBytes: 7.4e9, integrated: true, ...device }),
    buildEngine: async (options, onEvent) => {
      calls.builds.push(options);
      if (options.calibrationFile) calls.calibrationBytes.push((await readFile(options.calibrationFile)).length);
      onEvent?.({ kind: 'phase-start', phase: 'Building engine', parent: '', step: 0, steps: 2 });
      onEvent?.({ kind: 'step', phase: 'Building engine', parent: '', step: 1, steps: 0 });
      onEvent?.({ kind: 'phase-finish', phase: 'Building engine', parent: '', step: 0, steps: 0 });
      const onnx = await readFile(options.onnxPath);
      const size = Number(process.env.FAKE_TRT_SIZE ?? '0');
      const plan = `FAKE-PLAN ${size}x${size} from ${onnx.length} bytes of ONNX`;
      await writeFile(options.planPath, plan);
      return {
        planPath: options.planPath, planBytes: Buffer.byteLength(plan), width: size, height: size, tensorrtVersion: library,
        calibrationSamples: options.int8 ? 2 : 0, calibrationCacheHit: false, seconds: 1.26,
      };
    },
    Engine,
  };
  return { availability: { ok: true, trt }, calls };
}
