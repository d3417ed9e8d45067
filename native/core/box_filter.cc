#include "box_filter.h"

#include <algorithm>
#include <vector>

#include "parallel.h"
#include "simd.h"

namespace mmaerec {

namespace {

MMAEREC_HOT void add_row(double* colsum, const float* row, int w, double sign) {
  for (int x = 0; x < w; ++x) colsum[x] += sign * row[x];
}

// One output row from the column sums: slide a k-wide window along the row.
void slide_row(const double* colsum, int w, int r, const double* inv_count, float* out) {
  double s = 0.0;
  for (int x = 0; x <= std::min(w - 1, r); ++x) s += colsum[x];
  for (int x = 0; x < w; ++x) {
    out[x] = static_cast<float>(s * inv_count[x]);
    if (x + r + 1 < w) s += colsum[x + r + 1];
    if (x - r >= 0) s -= colsum[x - r];
  }
}

}  // namespace

void box_mean(const float* in, int w, int h, int k, Border border, float* out, WorkerPool* pool) {
  const int r = k / 2;
  auto span = [r](int i, int n) { return std::min(n - 1, i + r) - std::max(0, i - r) + 1; };
  for_rows(pool, h, [&](int y0, int y1) {
    std::vector<double> colsum(w, 0.0), inv(w);
    for (int yy = std::max(0, y0 - r); yy <= std::min(h - 1, y0 + r); ++yy) {
      add_row(colsum.data(), in + static_cast<size_t>(yy) * w, w, 1.0);
    }
    for (int y = y0; y < y1; ++y) {
      if (y > y0) {
        if (y + r < h) add_row(colsum.data(), in + static_cast<size_t>(y + r) * w, w, 1.0);
        if (y - r - 1 >= 0) add_row(colsum.data(), in + static_cast<size_t>(y - r - 1) * w, w, -1.0);
      }
      const double cy = span(y, h);
      for (int x = 0; x < w; ++x) {
        inv[x] = border == Border::Valid ? 1.0 / (cy * span(x, w)) : 1.0 / (static_cast<double>(k) * k);
      }
      slide_row(colsum.data(), w, r, inv.data(), out + static_cast<size_t>(y) * w);
    }
  });
}

}  // namespace mmaerec
