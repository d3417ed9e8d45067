#include "shading.h"

#include <cstddef>

#include "box_filter.h"
#include "parallel.h"
#include "scratch.h"

namespace mmaerec {

void transfer_shading(const float* input, const float* recon, int w, int h, int k, float* out, WorkerPool* pool) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  float* diff = scratch(Scratch::ShadingDiff, n);
  float* tmp = scratch(Scratch::ShadingTmp, n);
  for (int c = 0; c < 3; ++c) {
    for_rows(pool, h, [&](int y0, int y1) {
      for (std::size_t i = static_cast<std::size_t>(y0) * w; i < static_cast<std::size_t>(y1) * w; ++i) {
        diff[i] = input[3 * i + c] - recon[3 * i + c];
      }
    });
    box_mean(diff, w, h, k, Border::Valid, tmp, pool);
    box_mean(tmp, w, h, k, Border::Valid, diff, pool);
    box_mean(diff, w, h, k, Border::Valid, tmp, pool);
    for_rows(pool, h, [&](int y0, int y1) {
      for (std::size_t i = static_cast<std::size_t>(y0) * w; i < static_cast<std::size_t>(y1) * w; ++i) {
        out[3 * i + c] = recon[3 * i + c] + tmp[i];
      }
    });
  }
}

}  // namespace mmaerec
