import { onnxType } from '../model/onnx-proto.js';

/** The symbolic batch dimension given to the model's inputs and outputs. */
export const BATCH_DIM = 'batch';

export type BatchableModel = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

interface Dim { dim_value?: number | { toNumber(): number }; dim_param?: string }
interface ValueInfo { name: string; type?: { tensor_type?: { shape?: { dim?: Dim[] } } } }

/**
 * The bundle's model.onnx with a symbolic batch dimension, so that ONNX Runtime runs frames of several cameras
 * in one call, and that `build-engine --max-batch` hands TensorRT. Bundles declare a batch of 1; every
 * operator the SDK's writer emits (src/model/onnx-writer.ts: Conv, BatchNormalization, pooling, Resize with
 * scales, reductions over channel/space axes — the memory, the feature bank's nearest-normal distance —,
 * Concat/Split on axis ≥ 1, Transpose keeping axis 0) is independent of the batch, so only the declared shapes change — for models this SDK wrote. Any other producer's model is left
 * at batch 1, with the reason. The file on disk, which the bundle's sha256 covers, is never changed.
 */
export function withDynamicBatch(bytes: Uint8Array): BatchableModel {
  const Model = onnxType('ModelProto');
  let model: { producer_name?: string; graph?: { input?: ValueInfo[]; output?: ValueInfo[] } };
  try {
    model = Model.toObject(Model.decode(bytes), { defaults: false }) as typeof model;
  } catch (err) {
    return { ok: false, reason: `model.onnx cannot be read to batch it (${(err as Error).message})` };
  }
  if (model.producer_name !== 'mmaerec-edge') {
    return { ok: false, reason: `model.onnx was written by ${JSON.stringify(model.producer_name ?? 'an unknown producer')}, not mmaerec-edge: its graph may depend on a batch of 1, so frames run one at a time` };
  }
  for (const v of [...(model.graph?.input ?? []), ...(model.graph?.output ?? [])]) {
    const dims = v.type?.tensor_type?.shape?.dim;
    const first = dims?.[0];
    const value = typeof first?.dim_value === 'object' ? first.dim_value.toNumber() : first?.dim_value;
    if (!dims || dims.length !== 4 || (value !== 1 && first?.dim_param === undefined)) {
      return { ok: false, reason: `model.onnx tensor ${v.name} is not NCHW with a batch of 1: frames run one at a time` };
    }
    dims[0] = { dim_param: BATCH_DIM };
  }
  return { ok: true, bytes: Model.encode(Model.fromObject(model)).finish() };
}
