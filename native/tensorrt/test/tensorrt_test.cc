// Node-free test of the TensorRT back end's C++ core.
//
//   tensorrt_test                      run all tests; the TensorRT/GPU ones print "SKIP: <why>" where they cannot run
//   tensorrt_test --onnx model.onnx    also build engines from that ONNX (fp32, and fp16/int8 on TensorRT < 11)
//   tensorrt_test --read-calibration f print the header and per-tensor sums of a calibration batch file (used by
//                                      test/tensorrt to check that the TypeScript writer and this reader agree)
// Exit status: 0 all ran tests passed (skips included), 1 a test failed, 2 bad usage.
// Built by native/tensorrt/test/build.sh: without TensorRT (always possible) or with it (-DMMAEREC_WITH_TENSORRT=1).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../batch_range.h"
#include "../calibration_batches.h"

#if MMAEREC_WITH_TENSORRT
#include "../device_info.h"
#include "../engine_builder.h"
#include "../engine_runner.h"
#include "../trt_common.h"
#endif

using mmaerec::trt::CalibrationBatches;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

void expectThrow(const std::function<void()>& fn, const std::string& needle, const std::string& what) {
  try {
    fn();
    check(false, what + " (no error raised)");
  } catch (const std::exception& e) {
    const bool found = std::string(e.what()).find(needle) != std::string::npos;
    check(found, what + (found ? "" : std::string(" (message was: ") + e.what() + ")"));
  }
}

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

/// Writes a calibration file by hand (independently of the TS writer) with sample s, element i = s + i/1000.
std::string writeCalibration(const std::string& path, uint32_t count, uint32_t w, uint32_t h, uint32_t channels = 3,
                             const char* magic = "MMTRTCB1", std::size_t dropBytes = 0) {
  std::string bytes(magic, 8);
  for (uint32_t v : {1u, count, w, h, channels, 1u}) putU32(bytes, v);
  for (uint32_t s = 0; s < count; ++s) {
    for (std::size_t i = 0; i < std::size_t(channels + 1) * w * h; ++i) {
      const float f = float(s) + float(i) / 1000.0f;
      bytes.append(reinterpret_cast<const char*>(&f), sizeof f);
    }
  }
  bytes.resize(bytes.size() - dropBytes);
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

void testCalibrationBatches(const std::string& dir) {
  const std::string good = writeCalibration(dir + "/calib-good.bin", 2, 4, 3);
  CalibrationBatches batches(good);
  check(batches.header().count == 2 && batches.header().width == 4 && batches.header().height == 3,
        "calibration header read (2 samples of 4x3)");
  std::vector<float> image(36), edge(12);
  check(batches.next(image.data(), edge.data()) && image[0] == 0.0f && std::fabs(image[35] - 0.035f) < 1e-6f &&
            std::fabs(edge[0] - 0.036f) < 1e-6f && std::fabs(edge[11] - 0.047f) < 1e-6f,
        "first sample: image planar then edge, in file order");
  check(batches.next(image.data(), edge.data()) && image[0] == 1.0f, "second sample starts at its own offset");
  check(!batches.next(image.data(), edge.data()), "end of the set reported once all samples were read");
  batches.rewind();
  check(batches.next(image.data(), edge.data()) && image[0] == 0.0f, "rewind starts again at sample 0");

  expectThrow([&] { CalibrationBatches(dir + "/does-not-exist.bin"); }, "cannot be opened", "missing file refused");
  expectThrow([&] { CalibrationBatches(writeCalibration(dir + "/calib-magic.bin", 1, 4, 3, 3, "NOTCALIB")); },
              "does not start with MMTRTCB1", "wrong magic refused");
  expectThrow([&] { CalibrationBatches(writeCalibration(dir + "/calib-short.bin", 2, 4, 3, 3, "MMTRTCB1", 4)); },
              "but its header promises", "truncated file refused");
  expectThrow([&] { CalibrationBatches(writeCalibration(dir + "/calib-ch.bin", 1, 4, 3, 1)); },
              "expected 3 (image) + 1 (edge)", "wrong channel count refused");
  expectThrow([&] { CalibrationBatches(writeCalibration(dir + "/calib-empty.bin", 0, 4, 3)); }, "holds no samples",
              "empty set refused");
}

void testBatchRange() {
  using mmaerec::trt::BatchRange;
  using mmaerec::trt::profileFor;
  const auto same = [](const BatchRange& a, const BatchRange& b) { return a.min == b.min && a.opt == b.opt && a.max == b.max; };
  check(same(profileFor(false, 1, "m"), BatchRange{1, 1, 1}), "fixed batch of 1, --max-batch 1: profile 1/1/1");
  check(same(profileFor(true, 4, "m"), BatchRange{1, 4, 4}), "dynamic batch, --max-batch 4: profile min 1 / opt 4 / max 4");
  check(same(profileFor(true, 1, "m"), BatchRange{1, 1, 1}), "dynamic batch, --max-batch 1: profile 1/1/1");
  expectThrow([] { profileFor(false, 4, "the ONNX model m.onnx"); }, "the ONNX model m.onnx declares a fixed batch of 1, so it cannot be built for up to 4 frames",
              "--max-batch 4 on a fixed-batch network refused");
  expectThrow([] { profileFor(true, 0, "m"); }, "out of range: pass --max-batch 1..64", "--max-batch 0 refused");
  expectThrow([] { profileFor(true, 65, "m"); }, "out of range: pass --max-batch 1..64", "--max-batch 65 refused");

  mmaerec::trt::checkRange(BatchRange{1, 4, 4}, "e");
  check(true, "range 1/4/4 read back from an engine accepted");
  expectThrow([] { mmaerec::trt::checkRange(BatchRange{2, 2, 4}, "the engine e.plan"); }, "the engine e.plan has the batch range min 2 / opt 2 / max 4",
              "engine range with min 2 refused (a lone frame could not run)");
  expectThrow([] { mmaerec::trt::checkRange(BatchRange{1, 5, 4}, "e"); }, "rebuild it with", "engine range with opt > max refused");
  expectThrow([] { mmaerec::trt::checkRange(BatchRange{1, 1, 128}, "e"); }, "<= 64", "engine range beyond 64 refused");

  // framesIn's count and reason, taken before check() builds its label (argument order is unspecified).
  const auto frames = [](std::size_t image, std::size_t edge, const BatchRange& range) {
    std::string why;
    const int32_t n = mmaerec::trt::framesIn(image, edge, 12, 4, range, &why);
    return std::pair<int32_t, std::string>{n, why};
  };
  const BatchRange four{1, 4, 4};
  check(frames(12, 4, four) == std::pair<int32_t, std::string>{1, ""}, "one frame's floats: 1 frame");
  check(frames(36, 12, four).first == 3, "three frames' floats: 3 frames");
  const auto five = frames(60, 20, four);
  check(five.first == 0 && five.second == "image/edge of 60/20 floats, 5 frames, but the call takes 1..4",
        "five frames for an engine of up to 4 refused (" + five.second + ")");
  const auto uneven = frames(24, 4, four);
  check(uneven.first == 0 && uneven.second == "image/edge of 24/4 floats, not one whole number of frames of 12/4 floats",
        "image of 2 frames with edge of 1 refused (" + uneven.second + ")");
  check(frames(13, 4, four).first == 0, "image of a partial frame refused");
  const auto none = frames(0, 0, four);
  check(none.first == 0 && none.second.find(", 0 frames,") != std::string::npos, "no frames refused (" + none.second + ")");
  const auto two = frames(24, 8, BatchRange{});
  check(two.first == 0 && two.second == "image/edge of 24/8 floats, 2 frames, but the call takes 1",
        "two frames for a batch-1 engine refused (" + two.second + ")");
}

int readCalibration(const std::string& path) {
  try {
    CalibrationBatches batches(path);
    const auto& h = batches.header();
    std::vector<float> image(h.imageFloats()), edge(h.edgeFloats());
    double imageSum = 0, edgeSum = 0;
    while (batches.next(image.data(), edge.data())) {
      for (float v : image) imageSum += v;
      for (float v : edge) edgeSum += v;
    }
    std::printf("count=%u width=%u height=%u imageSum=%.6f edgeSum=%.6f\n", h.count, h.width, h.height, imageSum, edgeSum);
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}

#if MMAEREC_WITH_TENSORRT

/// An engine built with the network API (no ONNX needed): recon = 0.5·image + edge (edge broadcast over channels).
/// With maxBatch > 0 the batch is dynamic, with the profile build-engine makes (min 1 / opt = max = maxBatch).
std::string buildTinyPlan(const std::string& path, int32_t w, int32_t h, int32_t maxBatch = 0) {
  using namespace nvinfer1;
  mmaerec::trt::Logger logger;
  std::unique_ptr<IBuilder> builder(createInferBuilder(logger));
  std::unique_ptr<INetworkDefinition> network(builder->createNetworkV2(0));
  const int32_t n = maxBatch > 0 ? -1 : 1;
  ITensor* image = network->addInput("image", DataType::kFLOAT, Dims4{n, 3, h, w});
  ITensor* edge = network->addInput("edge", DataType::kFLOAT, Dims4{n, 1, h, w});
  static const float half = 0.5f;
  IConstantLayer* c = network->addConstant(Dims4{1, 1, 1, 1}, Weights{DataType::kFLOAT, &half, 1});
  IElementWiseLayer* scaled = network->addElementWise(*image, *c->getOutput(0), ElementWiseOperation::kPROD);
  IElementWiseLayer* sum = network->addElementWise(*scaled->getOutput(0), *edge, ElementWiseOperation::kSUM);
  sum->getOutput(0)->setName("recon");
  network->markOutput(*sum->getOutput(0));
  std::unique_ptr<IBuilderConfig> config(builder->createBuilderConfig());
  if (maxBatch > 0) {
    IOptimizationProfile* profile = builder->createOptimizationProfile();
    for (const auto& [which, b] : {std::pair{OptProfileSelector::kMIN, 1}, std::pair{OptProfileSelector::kOPT, maxBatch},
                                   std::pair{OptProfileSelector::kMAX, maxBatch}}) {
      profile->setDimensions("image", which, Dims4{b, 3, h, w});
      profile->setDimensions("edge", which, Dims4{b, 1, h, w});
    }
    config->addOptimizationProfile(profile);
  }
  std::unique_ptr<IHostMemory> plan(builder->buildSerializedNetwork(*network, *config));
  if (!plan) throw std::runtime_error("tiny network did not build: " + logger.lastError("no details"));
  std::ofstream(path, std::ios::binary).write(static_cast<const char*>(plan->data()), std::streamsize(plan->size()));
  return path;
}

void testRunner(const std::string& dir) {
  const int32_t w = 8, h = 4;
  const std::string plan = buildTinyPlan(dir + "/tiny.plan", w, h);
  mmaerec::trt::EngineRunner runner(plan, 0);
  check(runner.shape().width == w && runner.shape().height == h, "runner reads H and W from the engine");
  std::vector<float> image(3 * w * h), edge(w * h), recon(3 * w * h, -1.0f);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = float(i % 17) / 16.0f;
  for (std::size_t i = 0; i < edge.size(); ++i) edge[i] = float(i % 5) / 4.0f;
  for (int round = 0; round < 3; ++round) runner.infer(image.data(), edge.data(), recon.data());
  double maxErr = 0;
  for (std::size_t i = 0; i < recon.size(); ++i) {
    maxErr = std::max(maxErr, std::fabs(double(recon[i]) - (0.5 * image[i] + edge[i % (w * h)])));
  }
  check(maxErr < 1e-6, "enqueueV3 result equals 0.5*image + edge (max error " + std::to_string(maxErr) + ")");
  check(runner.batch().max == 1, "an engine with a fixed batch takes one frame per call");
  expectThrow([&] { runner.infer(image.data(), edge.data(), recon.data(), 2); }, "takes 1..1 frames per call, not 2",
              "two frames refused by a fixed-batch engine");
  expectThrow([&] { mmaerec::trt::EngineRunner(dir + "/absent.plan", 0); }, "cannot open the engine", "missing plan refused");
  std::ofstream(dir + "/garbage.plan", std::ios::binary) << "not an engine";
  expectThrow([&] { mmaerec::trt::EngineRunner(dir + "/garbage.plan", 0); }, "rebuild it", "corrupt plan refused");
}

/// A batch-range engine: runs of 3, 1 and 2 frames (the shape set per call, also when it shrinks and grows again)
/// each give every frame its own 0.5·image + edge.
void testBatchedRunner(const std::string& dir) {
  const int32_t w = 8, h = 4, most = 3;
  mmaerec::trt::EngineRunner runner(buildTinyPlan(dir + "/tiny-batch.plan", w, h, most), 0);
  const auto range = runner.batch();
  check(runner.shape().dynamicBatch && range.min == 1 && range.opt == most && range.max == most,
        "runner reads the batch range 1/3/3 from the engine's profile");
  const std::size_t plane = std::size_t(w) * h;
  std::vector<float> image(most * 3 * plane), edge(most * plane), recon(most * 3 * plane);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = float(i % 23) / 22.0f;
  for (std::size_t i = 0; i < edge.size(); ++i) edge[i] = float(i % 7) / 6.0f;  // differs per frame
  for (int32_t frames : {3, 1, 2, 3}) {
    std::fill(recon.begin(), recon.end(), -1.0f);
    runner.infer(image.data(), edge.data(), recon.data(), frames);
    double maxErr = 0;
    for (std::size_t i = 0; i < std::size_t(frames) * 3 * plane; ++i) {
      const std::size_t frame = i / (3 * plane), pixel = i % plane;
      maxErr = std::max(maxErr, std::fabs(double(recon[i]) - (0.5 * image[i] + edge[frame * plane + pixel])));
    }
    const bool untouched = std::all_of(recon.begin() + std::ptrdiff_t(frames * 3 * plane), recon.end(), [](float v) { return v == -1.0f; });
    check(maxErr < 1e-6 && untouched, std::to_string(frames) + " frames in one call: each frame's own result (max error " +
                                          std::to_string(maxErr) + "), nothing written past them");
  }
  expectThrow([&] { runner.infer(image.data(), edge.data(), recon.data(), most + 1); }, "takes 1..3 frames per call, not 4",
              "more frames than the profile's max refused");
}

void testBuilder(const std::string& dir, const std::string& onnx) {
  {
    // The bundle's own model.onnx declares a batch of 1; build-engine gives a batch-dynamic copy for --max-batch > 1.
    mmaerec::trt::BuildOptions o;
    o.onnxPath = onnx;
    o.planPath = dir + "/onnx-fixed-batch.plan";
    o.maxBatch = 2;
    expectThrow([&] { mmaerec::trt::buildEngine(o, nullptr); }, "declares a fixed batch of 1", "--max-batch 2 on the bundle's fixed-batch ONNX refused");
  }
  std::vector<std::pair<std::string, bool>> precisions = {{"fp32", false}};
#if NV_TENSORRT_MAJOR < 11
  precisions.push_back({"fp16", true});
#endif
  for (const auto& [label, fp16] : precisions) {
    mmaerec::trt::BuildOptions o;
    o.onnxPath = onnx;
    o.planPath = dir + "/onnx-" + label + ".plan";
    o.fp16 = fp16;
    o.workspaceBytes = 256ull << 20;
    std::atomic<int> phases{0};  // TensorRT may report progress from several threads
    const auto report = mmaerec::trt::buildEngine(o, [&](const mmaerec::trt::BuildEvent& e) {
      if (e.kind == mmaerec::trt::BuildEvent::Kind::PhaseStart) ++phases;
    });
    check(report.planBytes > 0 && phases > 0, label + " engine built from ONNX with progress phases (" + std::to_string(phases.load()) + ")");
    mmaerec::trt::EngineRunner runner(o.planPath, 0);
    check(runner.shape().width == report.shape.width, label + " engine loads in the runner");
  }
#if NV_TENSORRT_MAJOR < 11
  {
    // INT8: calibrate from a small batch file of the model's size, then rebuild from the cache alone.
    mmaerec::trt::EngineRunner probe(dir + "/onnx-fp32.plan", 0);
    const auto shape = probe.shape();
    mmaerec::trt::BuildOptions o;
    o.onnxPath = onnx;
    o.planPath = dir + "/onnx-int8.plan";
    o.int8 = true;
    o.fp16 = true;
    o.calibrationFile = writeCalibration(dir + "/onnx-calib.bin", 4, uint32_t(shape.width), uint32_t(shape.height));
    o.calibrationCache = dir + "/onnx-int8.cache";
    std::remove(o.calibrationCache.c_str());
    const auto first = mmaerec::trt::buildEngine(o, nullptr);
    check(first.calibrationSamples > 0 && !first.calibrationCacheHit && std::ifstream(o.calibrationCache).good(),
          "int8 engine calibrated from the batch file (" + std::to_string(first.calibrationSamples) + " samples) and cache written");
    const auto second = mmaerec::trt::buildEngine(o, nullptr);
    check(second.calibrationCacheHit, "int8 rebuild reads the calibration cache");
  }
#else
  mmaerec::trt::BuildOptions o;
  o.onnxPath = onnx;
  o.planPath = dir + "/onnx-fp16.plan";
  o.fp16 = true;
  expectThrow([&] { mmaerec::trt::buildEngine(o, nullptr); }, "strongly typed", "--fp16 refused on TensorRT 11");
#endif
}

#endif  // MMAEREC_WITH_TENSORRT

}  // namespace

int main(int argc, char** argv) {
  std::string onnx;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--read-calibration") == 0 && i + 1 < argc) return readCalibration(argv[i + 1]);
    if (std::strcmp(argv[i], "--onnx") == 0 && i + 1 < argc) {
      onnx = argv[++i];
    } else {
      std::fprintf(stderr, "usage: tensorrt_test [--onnx model.onnx] | --read-calibration file\n");
      return 2;
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp && *tmp ? tmp : "/tmp";
  testCalibrationBatches(dir);
  testBatchRange();
#if MMAEREC_WITH_TENSORRT
  std::printf("TensorRT headers %s, library %s\n", mmaerec::trt::compiledVersion().c_str(),
              mmaerec::trt::runtimeVersion().c_str());
  try {
    const auto gpu = mmaerec::trt::queryDevice(0);
    std::printf("GPU: %s (sm_%d%d)\n", gpu.name.c_str(), gpu.computeMajor, gpu.computeMinor);
    testRunner(dir);
    testBatchedRunner(dir);
    if (!onnx.empty()) testBuilder(dir, onnx);
    else std::printf("SKIP: engine build from ONNX: pass --onnx <bundle>/model.onnx to run it\n");
  } catch (const std::exception& e) {
    if (std::string(e.what()).find("no CUDA GPU") != std::string::npos) {
      std::printf("SKIP: TensorRT engine tests: %s\n", e.what());
    } else {
      check(false, std::string("TensorRT tests threw: ") + e.what());
    }
  }
#else
  std::printf("SKIP: TensorRT engine tests: built without TensorRT (set TENSORRT_ROOT and build with native/tensorrt/test/build.sh)\n");
#endif
  std::printf("%s (%d failed)\n", failures ? "FAILED" : "PASSED", failures);
  return failures ? 1 : 0;
}
