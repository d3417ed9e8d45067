// The network's edge input (method.md §2): grayscale, then the morphological gradient with a flat 3x3
// kernel (dilate - erode), where pixels outside the image are ignored (max/min over the in-image part).
#pragma once
#include <cstdint>

namespace mmaerec {
class WorkerPool;

/** OpenCV's RGB->gray for 8 bits, exactly: (9798 R + 19235 G + 3735 B + 16384) >> 15. */
inline std::uint8_t gray_u8(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((9798u * r + 19235u * g + 3735u * b + 16384u) >> 15);
}

/** OpenCV's RGB->gray for float: 0.299 R + 0.587 G + 0.114 B. */
inline float gray_f32(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

/** img: width*height*channels interleaved (channels 1 or 3, RGB order); out: width*height. */
void edge_map_u8(const std::uint8_t* img, int width, int height, int channels, std::uint8_t* out,
                 WorkerPool* pool);
void edge_map_f32(const float* img, int width, int height, int channels, float* out, WorkerPool* pool);

}  // namespace mmaerec
