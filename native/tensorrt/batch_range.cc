#include "batch_range.h"

#include <stdexcept>

namespace mmaerec::trt {

namespace {

std::string rangeString(const BatchRange& r) {
  return "min " + std::to_string(r.min) + " / opt " + std::to_string(r.opt) + " / max " + std::to_string(r.max);
}

}  // namespace

BatchRange profileFor(bool dynamicBatch, int32_t maxBatch, const std::string& what) {
  if (maxBatch < 1 || maxBatch > kMaxBatchLimit) {
    throw std::runtime_error("a maximum batch of " + std::to_string(maxBatch) + " is out of range: pass --max-batch 1.." +
                             std::to_string(kMaxBatchLimit));
  }
  if (!dynamicBatch && maxBatch > 1) {
    throw std::runtime_error(what + " declares a fixed batch of 1, so it cannot be built for up to " +
                             std::to_string(maxBatch) + " frames: build from the bundle with `npx mmaerec-edge build-engine "
                             "--max-batch " + std::to_string(maxBatch) + "`, which gives the network a dynamic batch");
  }
  return BatchRange{1, maxBatch, maxBatch};
}

void checkRange(const BatchRange& r, const std::string& what) {
  if (r.min != 1 || r.min > r.opt || r.opt > r.max || r.max > kMaxBatchLimit) {
    throw std::runtime_error(what + " has the batch range " + rangeString(r) + ", not 1 = min <= opt <= max <= " +
                             std::to_string(kMaxBatchLimit) + ": rebuild it with `npx mmaerec-edge build-engine --max-batch <n>`");
  }
}

int32_t framesIn(std::size_t imageFloats, std::size_t edgeFloats, std::size_t frameImage, std::size_t frameEdge,
                 const BatchRange& range, std::string* problem) {
  const auto fail = [&](const std::string& why) {
    if (problem) *problem = why;
    return 0;
  };
  if (frameImage == 0 || frameEdge == 0) return fail("inputs for an engine of unknown frame size: load() it first");
  const std::size_t frames = imageFloats / frameImage;
  const std::string sizes = "image/edge of " + std::to_string(imageFloats) + "/" + std::to_string(edgeFloats) + " floats";
  if (imageFloats % frameImage != 0 || edgeFloats != frames * frameEdge) {
    return fail(sizes + ", not one whole number of frames of " + std::to_string(frameImage) + "/" +
                std::to_string(frameEdge) + " floats");
  }
  if (frames < std::size_t(range.min) || frames > std::size_t(range.max)) {
    return fail(sizes + ", " + std::to_string(frames) + " frames, but the call takes " + std::to_string(range.min) +
                (range.max == range.min ? "" : ".." + std::to_string(range.max)));
  }
  if (problem) problem->clear();
  return int32_t(frames);
}

}  // namespace mmaerec::trt
