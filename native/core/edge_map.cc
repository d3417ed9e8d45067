#include "edge_map.h"

#include <algorithm>
#include <vector>

#include "parallel.h"

namespace mmaerec {

namespace {

template <typename T>
T to_gray(const T* px, int channels);

template <>
std::uint8_t to_gray(const std::uint8_t* px, int channels) {
  return channels == 1 ? px[0] : gray_u8(px[0], px[1], px[2]);
}

template <>
float to_gray(const float* px, int channels) {
  return channels == 1 ? px[0] : gray_f32(px[0], px[1], px[2]);
}

template <typename T>
void edge_map(const T* img, int w, int h, int channels, T* out, WorkerPool* pool) {
  std::vector<T> gray(static_cast<size_t>(w) * h);
  for_rows(pool, h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const T* row = img + static_cast<size_t>(y) * w * channels;
      T* g = gray.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) g[x] = to_gray(row + static_cast<size_t>(x) * channels, channels);
    }
  });
  for_rows(pool, h, [&](int y0, int y1) {
    std::vector<T> vmax(w), vmin(w);
    for (int y = y0; y < y1; ++y) {
      // Vertical max/min over the in-image rows of y-1..y+1, then horizontal over x-1..x+1.
      const int ya = std::max(0, y - 1), yb = std::min(h - 1, y + 1);
      for (int x = 0; x < w; ++x) {
        T hi = gray[static_cast<size_t>(ya) * w + x], lo = hi;
        for (int yy = ya + 1; yy <= yb; ++yy) {
          const T v = gray[static_cast<size_t>(yy) * w + x];
          hi = std::max(hi, v);
          lo = std::min(lo, v);
        }
        vmax[x] = hi;
        vmin[x] = lo;
      }
      T* o = out + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) {
        const int xa = std::max(0, x - 1), xb = std::min(w - 1, x + 1);
        T hi = vmax[xa], lo = vmin[xa];
        for (int xx = xa + 1; xx <= xb; ++xx) {
          hi = std::max(hi, vmax[xx]);
          lo = std::min(lo, vmin[xx]);
        }
        o[x] = static_cast<T>(hi - lo);
      }
    }
  });
}

}  // namespace

void edge_map_u8(const std::uint8_t* img, int width, int height, int channels, std::uint8_t* out,
                 WorkerPool* pool) {
  edge_map(img, width, height, channels, out, pool);
}

void edge_map_f32(const float* img, int width, int height, int channels, float* out, WorkerPool* pool) {
  edge_map(img, width, height, channels, out, pool);
}

}  // namespace mmaerec
