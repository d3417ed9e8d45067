// INT8 post-training calibration for TensorRT 10 (implicit quantization).
//
// TensorRT 10 deprecates implicit INT8 calibration (IInt8Calibrator, BuilderFlag::kINT8) and TensorRT 11 removed it:
// 11 builds every network strongly typed, so INT8 must already be in the ONNX graph as explicit
// QuantizeLinear/DequantizeLinear pairs (produced, e.g., by NVIDIA's TensorRT Model Optimizer from the same good
// images). This class therefore exists only when compiling against TensorRT < 11; engine_builder.cc refuses
// --int8 on 11 with that explanation.
#pragma once

#include <NvInfer.h>

#if NV_TENSORRT_MAJOR < 11

#include <memory>
#include <string>
#include <vector>

#include "calibration_batches.h"

namespace mmaerec::trt {

// The base classes carry TRT_DEPRECATED in TensorRT 10; we use them knowingly (see above), so keep the build quiet.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/// Feeds the `image` and `edge` inputs one preprocessed sample per batch (the engine's batch size is 1) and
/// reads/writes TensorRT's calibration cache so that a rebuild with the same data skips calibration.
class EntropyCalibrator final : public nvinfer1::IInt8EntropyCalibrator2 {
 public:
  EntropyCalibrator(const std::string& batchFile, std::string cachePath);
  ~EntropyCalibrator() noexcept override;

  int32_t getBatchSize() const noexcept override { return 1; }
  bool getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept override;
  void const* readCalibrationCache(std::size_t& length) noexcept override;
  void writeCalibrationCache(void const* ptr, std::size_t length) noexcept override;

  /// How many samples TensorRT consumed (reported back to the user).
  uint32_t samplesUsed() const { return used_; }
  /// True when the cache file was read (TensorRT then skips the calibration passes).
  bool cacheHit() const { return cacheHit_; }
  /// Error raised inside a noexcept callback, re-thrown by the builder after buildSerializedNetwork returns.
  const std::string& failure() const { return failure_; }

 private:
  CalibrationBatches batches_;
  std::string cachePath_;
  std::vector<float> hostImage_;
  std::vector<float> hostEdge_;
  void* deviceImage_ = nullptr;
  void* deviceEdge_ = nullptr;
  std::vector<char> cache_;
  uint32_t used_ = 0;
  bool cacheHit_ = false;
  std::string failure_;
};

#pragma GCC diagnostic pop

}  // namespace mmaerec::trt

#endif  // NV_TENSORRT_MAJOR < 11
