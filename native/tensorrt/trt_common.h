// Shared pieces of the TensorRT back end: the logger, owning pointers, CUDA error checks, version strings.
// Compiled only with MMAEREC_WITH_TENSORRT=1 (binding.gyp's TensorRT section). No Node, no N-API here.
#pragma once

#include <NvInfer.h>
#include <cuda_runtime_api.h>

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace mmaerec::trt {

/// TensorRT 10 removed destroy(): objects are released with delete, so unique_ptr's default deleter fits.
template <typename T>
using Owned = std::unique_ptr<T>;

/// Throws a one-line error for a failed CUDA call, naming the call (the messages reach the user as is).
inline void cudaCheck(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(status) +
                             ": check that a CUDA GPU is present and the driver matches the CUDA runtime");
  }
}

/// "10.3.0" from the encoding of getInferLibVersion()/NV_TENSORRT_VERSION (major*10000 + minor*100 + patch).
inline std::string versionString(long encoded) {
  return std::to_string(encoded / 10000) + "." + std::to_string((encoded / 100) % 100) + "." +
         std::to_string(encoded % 100);
}

/// Version of the TensorRT headers this code was compiled against.
inline std::string compiledVersion() {
  return std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." +
         std::to_string(NV_TENSORRT_PATCH);
}

/// Version of the libnvinfer actually loaded (may differ from the headers on a mis-set-up machine).
inline std::string runtimeVersion() { return versionString(getInferLibVersion()); }

/// Forwards TensorRT's messages at or above `minimum` to a sink and keeps the errors for the final report,
/// because TensorRT signals many failures only as a null return plus a logged error.
class Logger final : public nvinfer1::ILogger {
 public:
  using Sink = std::function<void(Severity, const char*)>;

  explicit Logger(Severity minimum = Severity::kWARNING, Sink sink = nullptr)
      : minimum_(minimum), sink_(std::move(sink)) {}

  void log(Severity severity, const char* msg) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (severity <= Severity::kERROR) errors_.emplace_back(msg);
    if (severity <= minimum_ && sink_) {
      try {
        sink_(severity, msg);
      } catch (...) {
        // A logger must not throw into TensorRT.
      }
    }
  }

  /// The last error TensorRT logged, or `fallback` when it logged none.
  std::string lastError(const std::string& fallback) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_.empty() ? fallback : errors_.back();
  }

 private:
  Severity minimum_;
  Sink sink_;
  mutable std::mutex mutex_;
  std::vector<std::string> errors_;
};

/// Formats dims as "1x3x256x256".
inline std::string dimsString(const nvinfer1::Dims& d) {
  std::string out;
  for (int32_t i = 0; i < d.nbDims; ++i) out += (i ? "x" : "") + std::to_string(d.d[i]);
  return out.empty() ? "scalar" : out;
}

}  // namespace mmaerec::trt
