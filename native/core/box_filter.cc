#include "box_filter.h"

#include <algorithm>
#include <vector>

#include "parallel.h"
#include "simd.h"

namespace mmaerec {

namespace {

MMAEREC_HOT void add_row(double* colsum, const float* row, int w) {
  for (int x = 0; x < w; ++x) colsum[x] += row[x];
}

MMAEREC_HOT void next_colsum(double* colsum, const float* add, const float* sub, int w) {
  if (add) {
    for (int x = 0; x < w; ++x) colsum[x] += add[x];
  }
  if (sub) {
    for (int x = 0; x < w; ++x) colsum[x] -= sub[x];
  }
}

MMAEREC_HOT void pair_sums(const double* __restrict__ in, int n, int step, double* __restrict__ out) {
  for (int x = 0; x < n; ++x) out[x] = in[x] + in[x + step];
}

MMAEREC_HOT void add_shifted(double* __restrict__ acc, const double* __restrict__ in, int n) {
  for (int x = 0; x < n; ++x) acc[x] += in[x];
}

MMAEREC_HOT void scale_out(const double* __restrict__ sum, const double* __restrict__ inv_x, double inv_y, int w,
                           float* __restrict__ out) {
  for (int x = 0; x < w; ++x) out[x] = static_cast<float>(sum[x] * inv_x[x] * inv_y);
}

// Horizontal k-wide window sums of one row of column sums. The running sum this replaced was a chain of
// dependent adds (latency-bound, scalar); here the window is built from power-of-two partial sums
// (S_2m[x] = S_m[x] + S_m[x + m]) and the binary digits of k, each a flat loop that vectorises, and every output
// is a sum of at most k inputs, so nothing drifts along the row. padded: the row with r zeros on each side
// (length w + 2r); level, next, sum: scratch of that length.
class RowWindow {
 public:
  RowWindow(int w, int k) : w_(w), k_(k), len_(w + k - 1), level_(len_), next_(len_), sum_(len_) {}
  double* padded() { return level_.data() + 0; }  // filled by the caller at [r, r + w), zeros elsewhere

  const double* sums() {
    // level_ holds S_1 (the padded row); sum_ accumulates the digits of k from the lowest, at offset `done`.
    int m = 1, done = 0;
    bool started = false;
    int valid = len_;  // entries of level_ that are S_m sums of in-range windows
    for (int rest = k_; rest > 0; rest >>= 1) {
      if (rest & 1) {
        if (!started) {
          std::copy(level_.begin(), level_.begin() + w_, sum_.begin());
          started = true;
        } else {
          add_shifted(sum_.data(), level_.data() + done, w_);
        }
        done += m;
      }
      if (rest > 1) {
        valid -= m;
        pair_sums(level_.data(), valid, m, next_.data());
        level_.swap(next_);
        m *= 2;
      }
    }
    restore_ = true;
    return sum_.data();
  }

  // After sums(), level_ was overwritten: the caller refills the middle; the zero margins must be restored.
  void reset_margins(int r) {
    if (!restore_) return;
    std::fill(level_.begin(), level_.begin() + r, 0.0);
    std::fill(level_.begin() + r + w_, level_.end(), 0.0);
    restore_ = false;
  }

 private:
  int w_, k_, len_;
  std::vector<double> level_, next_, sum_;
  bool restore_ = true;
};

}  // namespace

void box_mean(const float* in, int w, int h, int k, Border border, float* out, WorkerPool* pool) {
  const int r = k / 2;
  auto span = [r](int i, int n) { return std::min(n - 1, i + r) - std::max(0, i - r) + 1; };
  auto row = [&](int y) { return y >= 0 && y < h ? in + static_cast<size_t>(y) * w : nullptr; };
  // 1 / (span_x * span_y) = inv_x[x] * inv_y(y): one multiply per pixel instead of a division.
  std::vector<double> inv_x(w);
  for (int x = 0; x < w; ++x) inv_x[x] = border == Border::Valid ? 1.0 / span(x, w) : 1.0 / k;
  for_rows(pool, h, [&](int y0, int y1) {
    std::vector<double> colsum(w, 0.0);
    RowWindow window(w, k);
    for (int yy = std::max(0, y0 - r); yy <= std::min(h - 1, y0 + r); ++yy) add_row(colsum.data(), row(yy), w);
    for (int y = y0; y < y1; ++y) {
      if (y > y0) next_colsum(colsum.data(), row(y + r), row(y - 1 - r), w);
      window.reset_margins(r);
      std::copy(colsum.begin(), colsum.end(), window.padded() + r);
      const double inv_y = border == Border::Valid ? 1.0 / span(y, h) : 1.0 / k;
      scale_out(window.sums(), inv_x.data(), inv_y, w, out + static_cast<size_t>(y) * w);
    }
  });
}

}  // namespace mmaerec
