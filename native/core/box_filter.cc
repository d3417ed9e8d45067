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

// Two output rows from their column sums: slide a k-wide window along both rows at once. Each running sum
// takes one add per pixel (the window's entering-minus-leaving difference is computed off the chain), and
// the two rows' chains are independent, so the loop is not bound by one add's latency.
void slide_rows(const double* c0, const double* c1, int w, int r, const double* inv0, const double* inv1,
                float* out0, float* out1) {
  double s0 = 0.0, s1 = 0.0;
  for (int x = 0; x <= std::min(w - 1, r); ++x) {
    s0 += c0[x];
    s1 += c1[x];
  }
  for (int x = 0; x < w; ++x) {
    out0[x] = static_cast<float>(s0 * inv0[x]);
    out1[x] = static_cast<float>(s1 * inv1[x]);
    const double in0 = x + r + 1 < w ? c0[x + r + 1] : 0.0, out_0 = x - r >= 0 ? c0[x - r] : 0.0;
    const double in1 = x + r + 1 < w ? c1[x + r + 1] : 0.0, out_1 = x - r >= 0 ? c1[x - r] : 0.0;
    s0 += in0 - out_0;
    s1 += in1 - out_1;
  }
}

MMAEREC_HOT void next_colsum(const double* colsum, const float* add, const float* sub, int w, double* next) {
  for (int x = 0; x < w; ++x) {
    next[x] = colsum[x] + (add ? static_cast<double>(add[x]) : 0.0) - (sub ? static_cast<double>(sub[x]) : 0.0);
  }
}

}  // namespace

void box_mean(const float* in, int w, int h, int k, Border border, float* out, WorkerPool* pool) {
  const int r = k / 2;
  auto span = [r](int i, int n) { return std::min(n - 1, i + r) - std::max(0, i - r) + 1; };
  auto row = [&](int y) { return y >= 0 && y < h ? in + static_cast<size_t>(y) * w : nullptr; };
  for_rows(pool, h, [&](int y0, int y1) {
    // cs[0]: column sums of the window of row y; cs[1]: of row y + 1 (derived from cs[0]).
    std::vector<double> cs0(w, 0.0), cs1(w), inv0(w), inv1(w);
    for (int yy = std::max(0, y0 - r); yy <= std::min(h - 1, y0 + r); ++yy) {
      add_row(cs0.data(), in + static_cast<size_t>(yy) * w, w, 1.0);
    }
    auto fill_inv = [&](int y, double* inv) {
      const double cy = span(y, h);
      for (int x = 0; x < w; ++x) {
        inv[x] = border == Border::Valid ? 1.0 / (cy * span(x, w)) : 1.0 / (static_cast<double>(k) * k);
      }
    };
    int y = y0;
    for (; y + 1 < y1; y += 2) {
      next_colsum(cs0.data(), row(y + 1 + r), row(y - r), w, cs1.data());
      fill_inv(y, inv0.data());
      fill_inv(y + 1, inv1.data());
      slide_rows(cs0.data(), cs1.data(), w, r, inv0.data(), inv1.data(), out + static_cast<size_t>(y) * w,
                 out + static_cast<size_t>(y + 1) * w);
      next_colsum(cs1.data(), row(y + 2 + r), row(y + 1 - r), w, cs0.data());
    }
    if (y < y1) {  // an odd last row: slide it twice into a scratch row
      fill_inv(y, inv0.data());
      std::vector<float> spare(w);
      slide_rows(cs0.data(), cs0.data(), w, r, inv0.data(), inv0.data(), out + static_cast<size_t>(y) * w,
                 spare.data());
    }
  });
}

}  // namespace mmaerec
