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
  context_.reset(engine_->createExecutionContext());
  if (!context_) throw std::runtime_error("TensorRT could not create an execution context: " + logger_->lastError("out of GPU memory?"));

  try {
    cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    allocDevice(&deviceImage_, imageFloats(), "cudaMalloc (image)");
    allocDevice(&deviceEdge_, edgeFloats(), "cudaMalloc (edge)");
    allocDevice(&deviceRecon_, reconFloats(), "cudaMalloc (recon)");
    allocPinned(&pinnedImage_, imageFloats(), "cudaMallocHost (image)");
    allocPinned(&pinnedEdge_, edgeFloats(), "cudaMallocHost (edge)");
    allocPinned(&pinnedRecon_, reconFloats(), "cudaMallocHost (recon)");
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

void EngineRunner::enqueue(const float* image, const float* edge) {
  cudaCheck(cudaSetDevice(device_), "cudaSetDevice");
  // Staging through pinned memory makes the copies truly asynchronous (pageable memory would be copied twice).
  std::memcpy(pinnedImage_, image, imageFloats() * sizeof(float));
  std::memcpy(pinnedEdge_, edge, edgeFloats() * sizeof(float));
  cudaCheck(cudaMemcpyAsync(deviceImage_, pinnedImage_, imageFloats() * sizeof(float), cudaMemcpyHostToDevice, stream_),
            "cudaMemcpyAsync (image)");
  cudaCheck(cudaMemcpyAsync(deviceEdge_, pinnedEdge_, edgeFloats() * sizeof(float), cudaMemcpyHostToDevice, stream_),
            "cudaMemcpyAsync (edge)");
  if (!context_->enqueueV3(stream_)) {
    throw std::runtime_error("TensorRT enqueueV3 failed: " + logger_->lastError("no details"));
  }
}

void EngineRunner::downloadRecon(float* recon) {
  cudaCheck(cudaMemcpyAsync(pinnedRecon_, deviceRecon_, reconFloats() * sizeof(float), cudaMemcpyDeviceToHost, stream_),
            "cudaMemcpyAsync (recon)");
  cudaCheck(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  std::memcpy(recon, pinnedRecon_, reconFloats() * sizeof(float));
}

#if MMAEREC_WITH_CUDA
void EngineRunner::inferAndScore(const float* image, const float* edge, const FusedParams& params, float* map,
                                 double* score, long long* nonfinite) {
  enqueue(image, edge);
  if (!scorer_) scorer_ = std::make_unique<cuda::DeviceScorer>();
  std::string error;
  if (!scorer_->score_planar(deviceImage_, deviceRecon_, shape_.width, shape_.height, params, stream_, map, score,
                             nonfinite, &error)) {
    throw std::runtime_error("CUDA scoring after TensorRT inference failed: " + error);
  }
}
#endif

void EngineRunner::infer(const float* image, const float* edge, float* recon) {
  enqueue(image, edge);
  downloadRecon(recon);
}

}  // namespace mmaerec::trt
