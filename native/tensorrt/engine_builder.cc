#include "engine_builder.h"

#include <NvOnnxParser.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "int8_calibrator.h"
#include "trt_common.h"

namespace mmaerec::trt {

namespace {

/// Relays TensorRT's optimizer phases; returning false from stepComplete is TensorRT's way to cancel.
/// TensorRT may call it from several internal threads: the sink must be thread-safe (the glue's is a
/// ThreadSafeFunction).
class ProgressRelay final : public nvinfer1::IProgressMonitor {
 public:
  ProgressRelay(const BuildEventSink& sink, const std::function<bool()>& cancelled)
      : sink_(sink), cancelled_(cancelled) {}

  void phaseStart(char const* phaseName, char const* parentPhase, int32_t nbSteps) noexcept override {
    emit({BuildEvent::Kind::PhaseStart, phaseName, parentPhase ? parentPhase : "", 0, nbSteps});
  }
  bool stepComplete(char const* phaseName, int32_t step) noexcept override {
    emit({BuildEvent::Kind::Step, phaseName, "", step + 1, 0});
    return !(cancelled_ && cancelled_());
  }
  void phaseFinish(char const* phaseName) noexcept override {
    emit({BuildEvent::Kind::PhaseFinish, phaseName, "", 0, 0});
  }

 private:
  void emit(const BuildEvent& event) noexcept {
    if (!sink_) return;
    try {
      sink_(event);
    } catch (...) {
      // Progress is best effort; it must never unwind through TensorRT.
    }
  }
  const BuildEventSink& sink_;
  const std::function<bool()>& cancelled_;
};

std::vector<TensorDesc> describeNetwork(nvinfer1::INetworkDefinition& network) {
  std::vector<TensorDesc> out;
  for (int32_t i = 0; i < network.getNbInputs(); ++i) {
    nvinfer1::ITensor* t = network.getInput(i);
    out.push_back({t->getName(), true, t->getDimensions(), t->getType()});
  }
  for (int32_t i = 0; i < network.getNbOutputs(); ++i) {
    nvinfer1::ITensor* t = network.getOutput(i);
    out.push_back({t->getName(), false, t->getDimensions(), t->getType()});
  }
  return out;
}

std::string parserErrors(const nvonnxparser::IParser& parser) {
  std::string out;
  for (int32_t i = 0; i < parser.getNbErrors() && i < 3; ++i) {
    const auto* e = parser.getError(i);
    out += (i ? "; " : "") + std::string(e->desc()) + " (node " + std::to_string(e->node()) + ")";
  }
  return out.empty() ? "no details" : out;
}

/// A profile with N over `range` for both inputs (C, H, W fixed). Owned by the builder.
nvinfer1::IOptimizationProfile* batchProfile(nvinfer1::IBuilder& builder, const EngineShape& shape, const BatchRange& range) {
  nvinfer1::IOptimizationProfile* profile = builder.createOptimizationProfile();
  if (!profile) throw std::runtime_error("TensorRT could not create an optimisation profile: check the TensorRT installation");
  using nvinfer1::OptProfileSelector;
  const std::pair<OptProfileSelector, int32_t> points[] = {
      {OptProfileSelector::kMIN, range.min}, {OptProfileSelector::kOPT, range.opt}, {OptProfileSelector::kMAX, range.max}};
  for (const auto& [which, n] : points) {
    if (!profile->setDimensions(kImageTensor, which, nvinfer1::Dims4{n, 3, shape.height, shape.width}) ||
        !profile->setDimensions(kEdgeTensor, which, nvinfer1::Dims4{n, 1, shape.height, shape.width})) {
      throw std::runtime_error("TensorRT refused the batch range 1.." + std::to_string(range.max) +
                               " for the inputs image and edge: re-export the bundle with this SDK");
    }
  }
  return profile;
}

#if NV_TENSORRT_MAJOR < 11
using Calibrator = std::unique_ptr<EntropyCalibrator>;
#else
struct Calibrator {};  // TensorRT 11 has no implicit-quantization calibrator
#endif

/// Precision flags. TensorRT 11 builds every network strongly typed: precision follows the ONNX graph's own
/// types and explicit Q/DQ nodes, so builder-side FP16/INT8 switches no longer exist there.
void applyPrecision(const BuildOptions& o, nvinfer1::IBuilder& builder, nvinfer1::IBuilderConfig& config,
                    const EngineShape& shape, Calibrator& calibrator) {
#if NV_TENSORRT_MAJOR < 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (o.fp16) config.setFlag(nvinfer1::BuilderFlag::kFP16);
  if (o.int8) {
    if (o.calibrationFile.empty()) throw std::runtime_error("--int8 needs calibration data: pass --calib <dir of good images>");
    config.setFlag(nvinfer1::BuilderFlag::kINT8);
    calibrator = std::make_unique<EntropyCalibrator>(o.calibrationFile, o.calibrationCache);
    config.setInt8Calibrator(calibrator.get());
    // With a dynamic batch TensorRT calibrates at the calibration profile's shape; the calibrator hands over one
    // sample per getBatch, so that profile is a batch of exactly 1.
    if (shape.dynamicBatch && !config.setCalibrationProfile(batchProfile(builder, shape, BatchRange{1, 1, 1}))) {
      throw std::runtime_error("TensorRT refused the calibration profile (batch 1): build INT8 without --max-batch");
    }
  }
#pragma GCC diagnostic pop
#else
  (void)builder;
  (void)config;
  (void)shape;
  (void)calibrator;
  if (o.fp16 || o.int8) {
    throw std::runtime_error(
        std::string("TensorRT ") + compiledVersion() + " builds strongly typed networks and has no " +
        (o.int8 ? "INT8 calibration" : "FP16 builder switch") +
        ": build without --fp16/--int8, or feed an ONNX already converted to FP16 (ModelOpt AutoCast) or quantized "
        "with Q/DQ nodes (TensorRT Model Optimizer)");
  }
#endif
}

void writeAtomically(const std::string& path, const void* data, std::size_t size) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + temporary + ": check the directory exists and is writable");
    out.write(static_cast<const char*>(data), std::streamsize(size));
    if (!out) throw std::runtime_error("writing " + temporary + " failed: check free disk space");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot move the engine into " + path + ": check permissions of its directory");
  }
}

}  // namespace

BuildReport buildEngine(const BuildOptions& o, const BuildEventSink& onEvent, const std::function<bool()>& cancelled) {
  const auto started = std::chrono::steady_clock::now();
  cudaCheck(cudaSetDevice(o.device), "cudaSetDevice");

  Logger logger(nvinfer1::ILogger::Severity::kWARNING, [&](nvinfer1::ILogger::Severity, const char* msg) {
    if (onEvent) onEvent({BuildEvent::Kind::Warning, msg, "", 0, 0});
  });
  // Declared before every TensorRT object so that they outlive them all (destroyed in reverse order): TensorRT
  // requires the progress monitor and the calibrator to outlive the objects that use them.
  ProgressRelay relay(onEvent, cancelled);
  Calibrator calibrator;
  Owned<nvinfer1::IBuilder> builder(nvinfer1::createInferBuilder(logger));
  if (!builder) throw std::runtime_error("TensorRT could not create a builder (" + logger.lastError("no details") + "): check the TensorRT installation");
  // 0: explicit batch is the only mode since TensorRT 10 (the flag is ignored/removed); 11 is always strongly typed.
  Owned<nvinfer1::INetworkDefinition> network(builder->createNetworkV2(0));
  Owned<nvonnxparser::IParser> parser(nvonnxparser::createParser(*network, logger));
  if (!network || !parser) throw std::runtime_error("TensorRT could not create a network/parser: " + logger.lastError("no details"));

  if (!parser->parseFromFile(o.onnxPath.c_str(), static_cast<int>(nvinfer1::ILogger::Severity::kWARNING))) {
    throw std::runtime_error("TensorRT cannot parse " + o.onnxPath + ": " + parserErrors(*parser) +
                             ": re-export the bundle with this SDK version");
  }
  const EngineShape shape = validateIo(describeNetwork(*network), "the ONNX model " + o.onnxPath);
  const BatchRange range = profileFor(shape.dynamicBatch, o.maxBatch, "the ONNX model " + o.onnxPath);

  Owned<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  config->setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, o.workspaceBytes);
  config->setProgressMonitor(&relay);
  // A dynamic batch needs a profile even for --max-batch 1; a fixed one must not have one.
  if (shape.dynamicBatch && config->addOptimizationProfile(batchProfile(*builder, shape, range)) < 0) {
    throw std::runtime_error("TensorRT refused the optimisation profile (batch 1.." + std::to_string(range.max) + "): " +
                             logger.lastError("no details"));
  }
  applyPrecision(o, *builder, *config, shape, calibrator);

  Owned<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
#if NV_TENSORRT_MAJOR < 11
  const EntropyCalibrator* entropy = calibrator.get();
  if (entropy && !entropy->failure().empty()) throw std::runtime_error("INT8 calibration failed: " + entropy->failure());
#endif
  if (cancelled && cancelled()) throw std::runtime_error("the engine build was cancelled");
  if (!plan || plan->size() == 0) {
    throw std::runtime_error("TensorRT could not build the engine: " + logger.lastError("no details") +
                             ": try a larger --workspace or without --int8/--fp16");
  }
  writeAtomically(o.planPath, plan->data(), plan->size());

  BuildReport report;
  report.planPath = o.planPath;
  report.planBytes = plan->size();
  report.shape = shape;
  report.batch = range;
  report.tensorrtVersion = runtimeVersion();
#if NV_TENSORRT_MAJOR < 11
  if (entropy) {
    report.calibrationSamples = entropy->samplesUsed();
    report.calibrationCacheHit = entropy->cacheHit();
  }
#endif
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace mmaerec::trt
