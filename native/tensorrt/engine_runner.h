// Runs a deserialised engine: IRuntime → ICudaEngine → IExecutionContext::enqueueV3 with named tensors.
// Device buffers, pinned host buffers and the CUDA stream are allocated once at load; every inference reuses them.
//
// GPU-side scoring (builds with the CUDA kernels, MMAEREC_WITH_CUDA=1): inferAndScore() leaves `recon` on the GPU,
// queues the scoring kernels on stream() reading deviceImage()/deviceRecon() (planar NCHW float32), and only the
// score map comes back. Not thread-safe: one inference at a time per runner (the TS side queues calls).
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "../core/build_switches.h"
#include "../core/fused.h"
#include "engine_io.h"
#if MMAEREC_WITH_CUDA
#include "../cuda/scoring.h"
#endif

namespace nvinfer1 {
class IRuntime;
class ICudaEngine;
class IExecutionContext;
}  // namespace nvinfer1

namespace mmaerec::trt {

class Logger;

class EngineRunner {
 public:
  /// Reads and deserialises `planPath` on CUDA device `device`; throws a one-line error naming the fix
  /// (wrong TensorRT version, other GPU, corrupt file, wrong I/O).
  EngineRunner(const std::string& planPath, int device);
  ~EngineRunner();
  EngineRunner(const EngineRunner&) = delete;
  EngineRunner& operator=(const EngineRunner&) = delete;

  EngineShape shape() const { return shape_; }
  std::size_t imageFloats() const { return 3u * pixels(); }
  std::size_t edgeFloats() const { return pixels(); }
  std::size_t reconFloats() const { return 3u * pixels(); }

  /// Host in, host out, synchronous (call it from a worker thread). `image` 3·H·W, `edge` H·W, `recon` 3·H·W floats.
  void infer(const float* image, const float* edge, float* recon);

  /// Copies the inputs to the GPU and queues the network on stream(); returns without waiting.
  void enqueue(const float* image, const float* edge);
  /// Queues the copy of `recon` to the host and waits for the stream.
  void downloadRecon(float* recon);

#if MMAEREC_WITH_CUDA
  /// Inference and the fused score in one pass on the GPU: enqueue(), then the CUDA scoring reads the engine's own
  /// `image` and `recon` buffers on the same stream (buffers allocated on the first call, reused after). Only the
  /// map (host, H·W floats) and the score come back; the reconstruction stays on the device for downloadRecon().
  /// *nonfinite as cuda::fused_score's. Throws a one-line error on a CUDA or TensorRT failure.
  void inferAndScore(const float* image, const float* edge, const FusedParams& params, float* map, double* score,
                     long long* nonfinite);
#endif

  cudaStream_t stream() const { return stream_; }
  const float* deviceImage() const { return deviceImage_; }
  const float* deviceRecon() const { return deviceRecon_; }

 private:
  std::size_t pixels() const { return std::size_t(shape_.width) * std::size_t(shape_.height); }
  void release() noexcept;

  std::unique_ptr<Logger> logger_;
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  EngineShape shape_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  float* deviceImage_ = nullptr;
  float* deviceEdge_ = nullptr;
  float* deviceRecon_ = nullptr;
  float* pinnedImage_ = nullptr;
  float* pinnedEdge_ = nullptr;
  float* pinnedRecon_ = nullptr;
#if MMAEREC_WITH_CUDA
  std::unique_ptr<cuda::DeviceScorer> scorer_;
#endif
};

}  // namespace mmaerec::trt
