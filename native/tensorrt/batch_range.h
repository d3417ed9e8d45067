// The batch range of an engine (its optimisation profile over dimension 0) and the checks around it that need no
// TensorRT: which profile the builder makes for a network and a requested maximum batch, and how many frames one
// call's inputs hold. Free of TensorRT and CUDA on purpose, so these checks run in the C++ test on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mmaerec::trt {

/// The largest batch an engine may be built for: the bound of `build-engine --max-batch` and of backend.maxBatch
/// (src/engine/options.ts, src/config/schema.ts), which validate it first.
constexpr int32_t kMaxBatchLimit = 64;

/// Frames one inference may take: TensorRT's kMIN / kOPT / kMAX over dimension 0 (1/1/1 for a fixed batch of 1).
struct BatchRange {
  int32_t min = 1;
  int32_t opt = 1;
  int32_t max = 1;
};

/// The profile to build for a network whose batch dimension is dynamic (-1) or fixed at 1, asked for up to
/// `maxBatch` frames: min 1, opt = max = maxBatch (TensorRT tunes its kernels for the full batch, which is what a busy
/// cell runs). Throws a one-line error naming the fix for a maxBatch out of 1..kMaxBatchLimit, and for maxBatch > 1
/// on a network with a fixed batch (the TypeScript side hands the builder a batch-dynamic copy of the ONNX for that).
BatchRange profileFor(bool dynamicBatch, int32_t maxBatch, const std::string& what);

/// Checks a range read back from an engine: min = 1 ≤ opt ≤ max ≤ kMaxBatchLimit (min must be 1: the back end runs a
/// lone frame whenever only one is waiting); throws naming the fix otherwise.
void checkRange(const BatchRange& range, const std::string& what);

/// How many frames a call's inputs hold: `imageFloats`/`edgeFloats` must be the same whole number n of frames of
/// `frameImage`/`frameEdge` floats, with range.min ≤ n ≤ range.max. Returns n, or 0 with `*problem` set to a
/// phrase starting with the sizes received ("image/edge of 3/1024 floats, …"), for the caller to prefix.
int32_t framesIn(std::size_t imageFloats, std::size_t edgeFloats, std::size_t frameImage, std::size_t frameEdge,
                 const BatchRange& range, std::string* problem);

}  // namespace mmaerec::trt
