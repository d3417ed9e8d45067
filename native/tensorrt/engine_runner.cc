#include "engine_runner.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "trt_common.h"

namespace mmaerec::trt {

namespace {

std::vector<char> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open the engine " + path + ": build it with `npx mmaerec-edge build-engine`");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw std::runtime_error("the engine " + path + " is empty: rebuild it with `npx mmaerec-edge build-engine`");
  return bytes;
}

std::vector<TensorDesc> describeEngine(const nvinfer1::ICudaEngine& engine) {
  std::vector<TensorDesc> out;
  for (int32_t i = 0; i < engine.getNbIOTensors(); ++i) {
    const char* name = engine.getIOTensorName(i);
    out.push_back({name, engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT, engine.getTensorShape(name),
                   engine.getTensorDataType(name)});
  }
  return out;
}

template <typename T>
void allocDevice(T** p, std::size_t count, const char* what) {
  cudaCheck(cudaMalloc(reinterpret_cast<void**>(p), count * sizeof(T)), what);
}

template <typename T>
void allocPinned(T** p, std::size_t count, const char* what) {
  cudaCheck(cudaMallocHost(reinterpret_cast<void**>(p), count * sizeof(T)), what);
}

}  // namespace

EngineRunner::EngineRunner(const std::string& planPath, int device) : device_(device) {
  cudaCheck(cudaSetDevice(device), "cudaSetDevice");
  const std::vector<char> plan = readFile(planPath);
  logger_ = std::make_unique<Logger>(nvinfer1::ILogger::Severity::kWARNING);
  runtime_.reset(nvinfer1::createInferRuntime(*logger_));
  if (!runtime_) throw std::runtime_error("TensorRT could not create a runtime: " + logger_->lastError("check the TensorRT installation"));
  engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  if (!engine_) {
    // Typical causes: a plan from another TensorRT version or another GPU; the metadata check in TS should have
    // caught both, so this mostly means a corrupt file.
    throw std::runtime_error("TensorRT " + runtimeVersion() + " cannot load the engine " + planPath + " (" +
                             logger_->lastError("no details") + "): rebuild it on this device with `npx mmaerec-edge build-engine`");
  }
  shape_ = validateIo(describeEngine(*engine_), "the engine " + planPath);
  if (shape_.dynamicBatch) batch_ = readProfile("the engine " + planPath);
  context_.reset(engine_->createExecutionContext());
  if (!context_) throw std::runtime_error("TensorRT could not create an execution context: " + logger_->lastError("out of GPU memory?"));

  try {
    // Sized for the largest batch once, so that no call of the range allocates.
    const std::size_t most = std::size_t(batch_.max);
    cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    allocDevice(&deviceImage_, most * imageFloats(), "cudaMalloc (image)");
    allocDevice(&deviceEdge_, most * edgeFloats(), "cudaMalloc (edge)");
    allocDevice(&deviceRecon_, most * reconFloats(), "cudaMalloc (recon)");
    allocPinned(&pinnedImage_, most * imageFloats(), "cudaMallocHost (image)");
    allocPinned(&pinnedEdge_, most * edgeFloats(), "cudaMallocHost (edge)");
    allocPinned(&pinnedRecon_, most * reconFloats(), "cudaMallocHost (recon)");
  } catch (...) {
    release();
    throw;
  }
  // Addresses never change, so they are bound once rather than before every enqueueV3.
  if (!context_->setTensorAddress(kImageTensor, deviceImage_) || !context_->setTensorAddress(kEdgeTensor, deviceEdge_) ||
      !context_->setTensorAddress(kReconTensor, deviceRecon_)) {
    release();
    throw std::runtime_error("TensorRT refused the tensor addresses: " + logger_->lastError("no details"));
  }
}

EngineRunner::~EngineRunner() { release(); }

/// Profile 0's range over N, the same for both inputs (build-engine makes exactly one profile).
BatchRange EngineRunner::readProfile(const std::string& what) const {
  if (engine_->getNbOptimizationProfiles() < 1) {
    throw std::runtime_error(what + " has a dynamic batch but no optimisation profile: rebuild it with `npx mmaerec-edge build-engine --max-batch <n>`");
  }
  using nvinfer1::OptProfileSelector;
  const auto n = [&](const char* tensor, OptProfileSelector which) { return int32_t(engine_->getProfileShape(tensor, 0, which).d[0]); };
  const BatchRange image{n(kImageTensor, OptProfileSelector::kMIN), n(kImageTensor, OptProfileSelector::kOPT), n(kImageTensor, OptProfileSelector::kMAX)};
  const BatchRange edge{n(kEdgeTensor, OptProfileSelector::kMIN), n(kEdgeTensor, OptProfileSelector::kOPT), n(kEdgeTensor, OptProfileSelector::kMAX)};
  if (image.min != edge.min || image.opt != edge.opt || image.max != edge.max) {
    throw std::runtime_error(what + " has different batch ranges for image and edge: rebuild it with `npx mmaerec-edge build-engine --max-batch <n>`");
  }
  checkRange(image, what);
  return image;
}

/// Sets N on both inputs when it differs from the last call's: TensorRT re-infers the shapes after each change, so a
/// run of calls of one size (the usual case: a busy cell fills every batch) pays that only once.
void EngineRunner::setFrames(int32_t frames) {
  if (frames < batch_.min || frames > batch_.max) {
    throw std::runtime_error("the engine takes " + std::to_string(batch_.min) + ".." + std::to_string(batch_.max) +
                             " frames per call, not " + std::to_string(frames));
  }
  if (!shape_.dynamicBatch || frames == shapedFrames_) return;
  const nvinfer1::Dims4 image{frames, 3, shape_.height, shape_.width};
  const nvinfer1::Dims4 edge{frames, 1, shape_.height, shape_.width};
  if (!context_->setInputShape(kImageTensor, image) || !context_->setInputShape(kEdgeTensor, edge)) {
    shapedFrames_ = 0;  // one input may have taken the new shape: set both again next time
    throw std::runtime_error("TensorRT refused the input shape " + dimsString(image) + ": " + logger_->lastError("no details"));
  }
  shapedFrames_ = frames;
}

void EngineRunner::release() noexcept {
  // May run on any libuv worker thread (dispose) or the JS thread (GC): select the engine's device first.
  cudaSetDevice(device_);
  if (stream_) cudaStreamSynchronize(stream_);
  cudaFree(deviceImage_);
  cudaFree(deviceEdge_);
  cudaFree(deviceRecon_);
  cudaFreeHost(pinnedImage_);
  cudaFreeHost(pinnedEdge_);
  cudaFreeHost(pinnedRecon_);
#if MMAEREC_WITH_CUDA
  scorer_.reset();  // its device buffers, on this device
#endif
  deviceImage_ = deviceEdge_ = deviceRecon_ = pinnedImage_ = pinnedEdge_ = pinnedRecon_ = nullptr;
  // The context must go before the engine, the engine before the runtime.
  context_.reset();
  engine_.reset();
  runtime_.reset();
  if (stream_) cudaStreamDestroy(stream_);
  stream_ = nullptr;
}

void EngineRunner::enqueue(const float* image, const float* edge, int32_t frames) {
  cudaCheck(cudaSetDevice(device_), "cudaSetDevice");
  setFrames(frames);
  const std::size_t imageBytes = std::size_t(frames) * imageFloats() * sizeof(float);
  const std::size_t edgeBytes = std::size_t(frames) * edgeFloats() * sizeof(float);
  // Staging through pinned memory makes the copies truly asynchronous (pageable memory would be copied twice).
  std::memcpy(pinnedImage_, image, imageBytes);
  std::memcpy(pinnedEdge_, edge, edgeBytes);
  cudaCheck(cudaMemcpyAsync(deviceImage_, pinnedImage_, imageBytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync (image)");
  cudaCheck(cudaMemcpyAsync(deviceEdge_, pinnedEdge_, edgeBytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync (edge)");
  if (!context_->enqueueV3(stream_)) {
    throw std::runtime_error("TensorRT enqueueV3 failed: " + logger_->lastError("no details"));
  }
}

void EngineRunner::downloadRecon(float* recon, int32_t frames) {
  const std::size_t bytes = std::size_t(frames) * reconFloats() * sizeof(float);
  cudaCheck(cudaMemcpyAsync(pinnedRecon_, deviceRecon_, bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (recon)");
  cudaCheck(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  std::memcpy(recon, pinnedRecon_, bytes);
}

#if MMAEREC_WITH_CUDA
void EngineRunner::inferAndScore(const float* image, const float* edge, const FusedParams& params, float* map,
                                 double* score, long long* nonfinite) {
  enqueue(image, edge, 1);
  if (!scorer_) scorer_ = std::make_unique<cuda::DeviceScorer>();
  std::string error;
  if (!scorer_->score_planar(deviceImage_, deviceRecon_, shape_.width, shape_.height, params, stream_, map, score,
                             nonfinite, &error)) {
    throw std::runtime_error("CUDA scoring after TensorRT inference failed: " + error);
  }
}
#endif

void EngineRunner::infer(const float* image, const float* edge, float* recon, int32_t frames) {
  enqueue(image, edge, frames);
  downloadRecon(recon, frames);
}

}  // namespace mmaerec::trt
