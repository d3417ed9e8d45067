// Runs a deserialised engine: IRuntime → ICudaEngine → IExecutionContext::enqueueV3 with named tensors.
// Device buffers, pinned host buffers and the CUDA stream are allocated once at load, for the engine's largest
// batch; every inference reuses them. An engine with a batch range (build-engine --max-batch) takes 1..max frames
// per call, stacked along N: the input shape is set per call (setInputShape) for the frames it holds.
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
#include "batch_range.h"
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
  /// Frames per call: the engine's optimisation profile 0 over N, or 1/1/1 for a fixed batch of 1.
  BatchRange batch() const { return batch_; }
  /// Floats of ONE frame's tensors (a call of n frames passes n times as many).
  std::size_t imageFloats() const { return 3u * pixels(); }
  std::size_t edgeFloats() const { return pixels(); }
  std::size_t reconFloats() const { return 3u * pixels(); }

  /// Host in, host out, synchronous (call it from a worker thread). `frames` frames stacked along N (within batch()):
  /// `image` frames·3·H·W, `edge` frames·H·W, `recon` frames·3·H·W floats.
  void infer(const float* image, const float* edge, float* recon, int32_t frames = 1);

  /// Copies the inputs to the GPU, sets the input shape for `frames` and queues the network on stream(); returns
  /// without waiting. Throws for `frames` outside batch().
  void enqueue(const float* image, const float* edge, int32_t frames = 1);
  /// Queues the copy of `frames` reconstructions to the host and waits for the stream.
  void downloadRecon(float* recon, int32_t frames = 1);

#if MMAEREC_WITH_CUDA
  /// Inference and the fused score of ONE frame in one pass on the GPU: enqueue(), then the CUDA scoring reads the engine's own
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
  BatchRange readProfile(const std::string& what) const;
  void setFrames(int32_t frames);

  std::unique_ptr<Logger> logger_;
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  EngineShape shape_;
  BatchRange batch_;
  int32_t shapedFrames_ = 0;  // the N the context's input shape was last set to (0: not yet)
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
