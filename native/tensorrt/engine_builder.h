// ONNX model → serialized TensorRT plan (IBuilder + nvonnxparser::IParser). Node-free; the N-API glue
// (native/glue/tensorrt.cc) runs it on a worker thread and turns `BuildEvent`s into JS progress callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "batch_range.h"
#include "engine_io.h"

namespace mmaerec::trt {

/// Already validated by the TypeScript side (src/engine/options.ts); checked again only where a wrong value
/// would crash rather than fail.
struct BuildOptions {
  std::string onnxPath;
  std::string planPath;            // written atomically (temporary file + rename)
  bool fp16 = false;               // TensorRT < 11: allow FP16 kernels
  bool int8 = false;               // TensorRT < 11: implicit INT8 with entropy calibration
  std::string calibrationFile;     // int8: the batch file (calibration_batches.h)
  std::string calibrationCache;    // int8: read if present, written after calibration
  uint64_t workspaceBytes = 1ull << 30;
  int device = 0;
  // Frames per inference, up to: > 1 needs an ONNX with a dynamic batch (build.ts writes one), and builds the
  // optimisation profile min 1 / opt maxBatch / max maxBatch over N.
  int32_t maxBatch = 1;
};

/// Progress as TensorRT reports it (IProgressMonitor phases and steps) plus warnings from its logger.
struct BuildEvent {
  enum class Kind { PhaseStart, Step, PhaseFinish, Warning };
  Kind kind = Kind::PhaseStart;
  std::string phase;   // phase name, or the message for Warning
  std::string parent;  // enclosing phase ("" at top level)
  int32_t step = 0;
  int32_t steps = 0;
};
using BuildEventSink = std::function<void(const BuildEvent&)>;

struct BuildReport {
  std::string planPath;
  uint64_t planBytes = 0;
  EngineShape shape;
  BatchRange batch;                // the profile built (1/1/1 for a fixed batch)
  std::string tensorrtVersion;     // of the library that built it (runtime, not headers)
  uint32_t calibrationSamples = 0; // int8: samples TensorRT consumed (0 when the cache was used)
  bool calibrationCacheHit = false;
  double seconds = 0;
};

/// Builds and writes the plan; throws std::runtime_error with a one-line message naming the fix.
/// `cancelled` (optional) is polled at every optimizer step; returning true aborts the build.
BuildReport buildEngine(const BuildOptions& options, const BuildEventSink& onEvent,
                        const std::function<bool()>& cancelled = nullptr);

}  // namespace mmaerec::trt
