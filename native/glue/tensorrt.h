// N-API glue of the TensorRT back end (the Node-free engine code is native/tensorrt). The addon's entry file calls
// InitTensorRT(env, exports) when it is built with MMAEREC_WITH_TENSORRT=1; it adds `exports.tensorrt`. An addon built without TensorRT has no `tensorrt` export,
// and src/infer/tensorrt.ts reports that (with how to rebuild) instead of crashing.
//
// exports.tensorrt:
//   version(): { headers: string, library: string }                              (sync, no CUDA init)
//   queryDevice(index): Promise<{ index, name, computeCapability: "8.7", totalMemoryBytes, integrated }>
//   buildEngine(options, onEvent?): Promise<{ planPath, planBytes, width, height, batch: { min, opt, max },
//                                             tensorrtVersion, calibrationSamples, calibrationCacheHit, seconds }>
//       options: { onnxPath, planPath, fp16, int8, calibrationFile, calibrationCache, workspaceBytes, device, maxBatch }
//       onEvent({ kind: 'phase-start'|'step'|'phase-finish'|'warning', phase, parent, step, steps })
//   new Engine(): load(planPath, device): Promise<{ width, height, batch: { min, opt, max } }>;
//                 infer(image: Float32Array, edge: Float32Array): Promise<Float32Array /* recon, Nx3xHxW */>
//                   (N frames stacked along the batch, N within batch: min..max; N is image.length / (3·H·W));
//                 inferScore(image, edge, params /* NativeFusedParams */, wantRecon): Promise<{ map, score, recon? }>
//                   (only in builds with the CUDA kernels: inference and fused score on the GPU, no host copy
//                   of the reconstruction unless wantRecon);
//                 dispose(): Promise<void>
#pragma once

#include <napi.h>

#include "../tensorrt/batch_range.h"

namespace mmaerec::trt::glue {

void InitTensorRT(Napi::Env env, Napi::Object exports);

/// The Engine class (tensorrt_engine.cc).
Napi::Function DefineEngineClass(Napi::Env env);

/// { min, opt, max } as JS sees a batch range (build report and load result).
Napi::Object batchObject(Napi::Env env, const BatchRange& range);

}  // namespace mmaerec::trt::glue
