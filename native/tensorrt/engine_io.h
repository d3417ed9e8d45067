// The network's I/O contract (shared with src/infer/backend.ts and the ONNX writer): inputs `image` [N,3,H,W] and
// `edge` [N,1,H,W], output `recon` [N,3,H,W], all float32, with N fixed at 1 or dynamic (-1, a batch range set by an
// optimisation profile) on all three. Both the builder (on the parsed network) and the runner
// (on the deserialised engine) check it, so a wrong model fails with a clear message instead of wrong numbers.
#pragma once

#include <NvInfer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mmaerec::trt {

constexpr const char* kImageTensor = "image";
constexpr const char* kEdgeTensor = "edge";
constexpr const char* kReconTensor = "recon";

/// The input size found in the network / engine, and whether its batch dimension is dynamic.
struct EngineShape {
  int32_t width = 0;
  int32_t height = 0;
  bool dynamicBatch = false;
};

/// One I/O tensor as either the network definition or the engine describes it.
struct TensorDesc {
  std::string name;
  bool isInput = false;
  nvinfer1::Dims dims{};
  nvinfer1::DataType type = nvinfer1::DataType::kFLOAT;
};

/// Checks the I/O set against the contract and returns H, W and whether N is dynamic; throws a one-line error naming what is wrong.
/// `what` names the checked object in messages, e.g. "the ONNX model model.onnx" or "the engine engine.plan".
EngineShape validateIo(const std::vector<TensorDesc>& tensors, const std::string& what);

}  // namespace mmaerec::trt
