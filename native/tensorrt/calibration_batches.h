// Reader for the INT8 calibration batch file that the TypeScript side writes (src/engine/calibration.ts).
// Node-free and TensorRT-free on purpose: it is compiled and tested on every machine, TensorRT or not.
//
// File layout (little-endian):
//   offset  0  char[8]  magic "MMTRTCB1"
//   offset  8  uint32   format version (1)
//   offset 12  uint32   sample count N (>= 1)
//   offset 16  uint32   width W
//   offset 20  uint32   height H
//   offset 24  uint32   image channels (3)
//   offset 28  uint32   edge channels (1)
//   offset 32  N samples, each: float32 image[3*H*W] (planar RGB in [0,1]) then float32 edge[H*W] ([0,1])
// These are exactly the network's `image` and `edge` inputs after the SDK's own preprocessing.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace mmaerec::trt {

constexpr char kCalibrationMagic[8] = {'M', 'M', 'T', 'R', 'T', 'C', 'B', '1'};
constexpr uint32_t kCalibrationVersion = 1;
constexpr std::size_t kCalibrationHeaderBytes = 32;

struct CalibrationHeader {
  uint32_t count = 0;
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t imageChannels = 0;
  uint32_t edgeChannels = 0;

  std::size_t imageFloats() const { return std::size_t(imageChannels) * width * height; }
  std::size_t edgeFloats() const { return std::size_t(edgeChannels) * width * height; }
  std::size_t sampleBytes() const { return (imageFloats() + edgeFloats()) * sizeof(float); }
};

/// Sequential reader over the samples; throws std::runtime_error with a one-line message naming the fix.
class CalibrationBatches {
 public:
  /// Opens and validates the header and the file size (a truncated file is refused before the build starts).
  explicit CalibrationBatches(const std::string& path);

  const CalibrationHeader& header() const { return header_; }
  const std::string& path() const { return path_; }

  /// Copies the next sample into `image` (imageFloats) and `edge` (edgeFloats); false once all were read.
  bool next(float* image, float* edge);

  /// Starts again from the first sample (TensorRT may iterate the calibration set more than once).
  void rewind();

 private:
  std::string path_;
  std::ifstream in_;
  CalibrationHeader header_;
  uint32_t position_ = 0;
};

}  // namespace mmaerec::trt
