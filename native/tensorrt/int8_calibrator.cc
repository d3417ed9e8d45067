#include "int8_calibrator.h"

#if NV_TENSORRT_MAJOR < 11

#include <cstring>
#include <fstream>
#include <iterator>

#include "engine_io.h"
#include "trt_common.h"

namespace mmaerec::trt {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

EntropyCalibrator::EntropyCalibrator(const std::string& batchFile, std::string cachePath)
    : batches_(batchFile), cachePath_(std::move(cachePath)) {
  const auto& h = batches_.header();
  hostImage_.resize(h.imageFloats());
  hostEdge_.resize(h.edgeFloats());
  cudaCheck(cudaMalloc(&deviceImage_, hostImage_.size() * sizeof(float)), "cudaMalloc (calibration image)");
  try {
    cudaCheck(cudaMalloc(&deviceEdge_, hostEdge_.size() * sizeof(float)), "cudaMalloc (calibration edge)");
  } catch (...) {
    cudaFree(deviceImage_);
    throw;
  }
}

EntropyCalibrator::~EntropyCalibrator() noexcept {
  cudaFree(deviceImage_);
  cudaFree(deviceEdge_);
}

bool EntropyCalibrator::getBatch(void* bindings[], char const* names[], int32_t nbBindings) noexcept {
  try {
    if (!batches_.next(hostImage_.data(), hostEdge_.data())) return false;  // end of the calibration set
    cudaCheck(cudaMemcpy(deviceImage_, hostImage_.data(), hostImage_.size() * sizeof(float), cudaMemcpyHostToDevice),
              "cudaMemcpy (calibration image)");
    cudaCheck(cudaMemcpy(deviceEdge_, hostEdge_.data(), hostEdge_.size() * sizeof(float), cudaMemcpyHostToDevice),
              "cudaMemcpy (calibration edge)");
    for (int32_t i = 0; i < nbBindings; ++i) {
      if (std::strcmp(names[i], kImageTensor) == 0) {
        bindings[i] = deviceImage_;
      } else if (std::strcmp(names[i], kEdgeTensor) == 0) {
        bindings[i] = deviceEdge_;
      } else {
        failure_ = std::string("the network asks calibration data for an unknown input \"") + names[i] +
                   "\": the bundle's ONNX must have exactly the inputs image and edge";
        return false;
      }
    }
    ++used_;
    return true;
  } catch (const std::exception& e) {
    failure_ = e.what();
    return false;
  }
}

void const* EntropyCalibrator::readCalibrationCache(std::size_t& length) noexcept {
  length = 0;
  if (cachePath_.empty()) return nullptr;
  try {
    std::ifstream in(cachePath_, std::ios::binary);
    if (!in) return nullptr;  // no cache yet: TensorRT calibrates from the batches
    cache_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (cache_.empty()) return nullptr;
    cacheHit_ = true;
    length = cache_.size();
    return cache_.data();
  } catch (...) {
    return nullptr;
  }
}

void EntropyCalibrator::writeCalibrationCache(void const* ptr, std::size_t length) noexcept {
  if (cachePath_.empty()) return;
  try {
    // Write beside and rename, so an interrupted build never leaves a truncated cache that a later build trusts.
    const std::string temporary = cachePath_ + ".partial";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(static_cast<const char*>(ptr), std::streamsize(length));
      if (!out) return;
    }
    std::rename(temporary.c_str(), cachePath_.c_str());
  } catch (...) {
    // A missing cache only costs time on the next build.
  }
}

#pragma GCC diagnostic pop

}  // namespace mmaerec::trt

#endif  // NV_TENSORRT_MAJOR < 11
