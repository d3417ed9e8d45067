#include "calibration_batches.h"

#include <cstring>
#include <stdexcept>

namespace mmaerec::trt {

namespace {

uint32_t readU32le(const unsigned char* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

bool hostIsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error("calibration batch file " + path + " " + problem +
                           ": regenerate it with `npx mmaerec-edge build-engine --int8 --calib <dir>`");
}

}  // namespace

CalibrationBatches::CalibrationBatches(const std::string& path) : path_(path) {
  if (!hostIsLittleEndian()) fail(path, "cannot be read on a big-endian host");
  in_.open(path, std::ios::binary);
  if (!in_) fail(path, "cannot be opened");
  unsigned char raw[kCalibrationHeaderBytes];
  in_.read(reinterpret_cast<char*>(raw), sizeof raw);
  if (in_.gcount() != std::streamsize(sizeof raw)) fail(path, "is shorter than its 32-byte header");
  if (std::memcmp(raw, kCalibrationMagic, sizeof kCalibrationMagic) != 0) fail(path, "does not start with MMTRTCB1");
  const uint32_t version = readU32le(raw + 8);
  if (version != kCalibrationVersion) fail(path, "has format version " + std::to_string(version) + ", expected 1");
  header_.count = readU32le(raw + 12);
  header_.width = readU32le(raw + 16);
  header_.height = readU32le(raw + 20);
  header_.imageChannels = readU32le(raw + 24);
  header_.edgeChannels = readU32le(raw + 28);
  if (header_.count == 0) fail(path, "holds no samples");
  if (header_.width == 0 || header_.height == 0 || header_.width > 16384 || header_.height > 16384) {
    fail(path, "has an impossible size " + std::to_string(header_.width) + "x" + std::to_string(header_.height));
  }
  if (header_.imageChannels != 3 || header_.edgeChannels != 1) {
    fail(path, "has " + std::to_string(header_.imageChannels) + "+" + std::to_string(header_.edgeChannels) +
                   " channels, expected 3 (image) + 1 (edge)");
  }
  in_.seekg(0, std::ios::end);
  const auto actual = static_cast<unsigned long long>(in_.tellg());
  const unsigned long long expected =
      kCalibrationHeaderBytes + static_cast<unsigned long long>(header_.count) * header_.sampleBytes();
  if (actual != expected) {
    fail(path, "is " + std::to_string(actual) + " bytes but its header promises " + std::to_string(expected));
  }
  rewind();
}

bool CalibrationBatches::next(float* image, float* edge) {
  if (position_ >= header_.count) return false;
  in_.read(reinterpret_cast<char*>(image), std::streamsize(header_.imageFloats() * sizeof(float)));
  in_.read(reinterpret_cast<char*>(edge), std::streamsize(header_.edgeFloats() * sizeof(float)));
  if (!in_) fail(path_, "could not be read at sample " + std::to_string(position_));
  ++position_;
  return true;
}

void CalibrationBatches::rewind() {
  in_.clear();
  in_.seekg(std::streamoff(kCalibrationHeaderBytes), std::ios::beg);
  position_ = 0;
}

}  // namespace mmaerec::trt
