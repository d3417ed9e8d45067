import { readFile, writeFile } from 'node:fs/promises';
import type { NativeBuildOptions, NativeDevice, NativeEngine, TensorRTAvailability, TensorRTNative } from '../../src/engine/addon.js';
import { onnxType } from '../../src/model/onnx-proto.js';
import type { NativeFusedParams } from '../../src/native.js';

/**
 * A test double of the addon's TensorRT interface (native/glue/tensorrt.h), for the TypeScript logic
 * around it: option hand-off, metadata, checks before loading, call queueing, batches. It is NOT TensorRT: the
 * "plan" it writes is a marker file (size and batch range) and its "network" computes recon = 0.5·image + edge per
 * frame (the C++ test's tiny engine), taking as many frames per call as its range allows, like the native runner.
 */
export interface FakeCalls {
  builds: NativeBuildOptions[];
  calibrationBytes: number[];
  inferInFlight: number;
  /** The params and wantRecon of every inferScore call. */
  scored: { params: NativeFusedParams; wantRecon: boolean }[];
  maxInFlight: number;
  /** Frames of every infer call, in order. */
  inferFrames: number[];
  /** Per build: the first dimension of each input of the ONNX handed to TensorRT (a number, or its symbol). */
  onnxBatchDims: (number | string)[][];
}

/** First dimension of each graph input, as the ONNX file declares it. */
function inputBatchDims(bytes: Uint8Array): (number | string)[] {
  const Model = onnxType('ModelProto');
  type Dim = { dim_value?: number | { toNumber(): number }; dim_param?: string };
  const model = Model.toObject(Model.decode(bytes), { defaults: false }) as { graph: { input: { type: { tensor_type: { shape: { dim: Dim[] } } } }[] } };
  return model.graph.input.map((i) => {
    const d = i.type.tensor_type.shape.dim[0]!;
    return d.dim_param ?? (typeof d.dim_value === 'object' ? d.dim_value.toNumber() : d.dim_value!);
  });
}

export function fakeTensorRT(device: Partial<NativeDevice> = {}, library = '10.3.0'): { availability: TensorRTAvailability; calls: FakeCalls } {
  const calls: FakeCalls = { builds: [], calibrationBytes: [], inferInFlight: 0, maxInFlight: 0, scored: [], inferFrames: [], onnxBatchDims: [] };
  class Engine implements NativeEngine {
    private size = 0;
    private maxFrames = 1;
    async load(planPath: string) {
      const text = await readFile(planPath, 'utf8');
      const m = /^FAKE-PLAN (\d+)x(\d+) batch 1\.\.(\d+)/.exec(text);
      if (!m) throw new Error(`TensorRT ${library} cannot load the engine ${planPath}: rebuild it`);
      this.size = Number(m[1]) * Number(m[2]);
      this.maxFrames = Number(m[3]);
      return { width: Number(m[1]), height: Number(m[2]), batch: { min: 1, opt: this.maxFrames, max: this.maxFrames } };
    }
    async infer(image: Float32Array, edge: Float32Array): Promise<Float32Array> {
      // As native/tensorrt/batch_range.cc framesIn: whole frames, within the range.
      const frames = image.length / (3 * this.size);
      if (!Number.isInteger(frames) || edge.length !== frames * this.size || frames < 1 || frames > this.maxFrames) {
        throw new Error(`Engine.infer got image/edge of ${image.length}/${edge.length} floats, but the call takes 1..${this.maxFrames}`);
      }
      calls.inferFrames.push(frames);
      calls.inferInFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inferInFlight);
      await new Promise((r) => setTimeout(r, 5));
      calls.inferInFlight--;
      const plane = 3 * this.size;
      return image.map((v, i) => 0.5 * v + edge[Math.floor(i / plane) * this.size + (i % this.size)]!);
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
      const dims = inputBatchDims(onnx);
      calls.onnxBatchDims.push(dims);
      // As native/tensorrt/batch_range.cc profileFor: more than one frame needs a symbolic batch.
      if (options.maxBatch > 1 && dims.some((d) => typeof d === 'number')) throw new Error(`the ONNX model ${options.onnxPath} declares a fixed batch of 1`);
      const size = Number(process.env.FAKE_TRT_SIZE ?? '0');
      const plan = `FAKE-PLAN ${size}x${size} batch 1..${options.maxBatch} from ${onnx.length} bytes of ONNX`;
      await writeFile(options.planPath, plan);
      return {
        planPath: options.planPath, planBytes: Buffer.byteLength(plan), width: size, height: size, tensorrtVersion: library,
        batch: { min: 1, opt: options.maxBatch, max: options.maxBatch },
        calibrationSamples: options.int8 ? 2 : 0, calibrationCacheHit: false, seconds: 1.26,
      };
    },
    Engine,
  };
  return { availability: { ok: true, trt }, calls };
}
