#include "fused.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "lab.h"
#include "msgms.h"
#include "parallel.h"
#include "scratch.h"
#include "shading.h"
#include "simd.h"

namespace mmaerec {

namespace {

// RGB RGB ... -> three planes. __restrict__ lets the stride-3 loads vectorise (as permutes).
MMAEREC_HOT void deinterleave(const float* __restrict__ rgb, std::size_t n, float* __restrict__ r,
                              float* __restrict__ g, float* __restrict__ b) {
  for (std::size_t i = 0; i < n; ++i) {
    r[i] = rgb[3 * i];
    g[i] = rgb[3 * i + 1];
    b[i] = rgb[3 * i + 2];
  }
}

// Non-zero when some value of data[0..n) is inf or NaN (exponent bits all ones); an integer OR-reduction
// vectorises where a float test would not.
MMAEREC_HOT std::uint32_t any_nonfinite(const float* data, std::size_t n) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, data + i, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
  }
  return bad;
}

// dE2 = dL^2 + da^2 + db^2 of n pixels (one image row) from their planes (single precision when mu is small
// enough for its error not to show, kFloatColorMaxMuPerWindow) or, exact, from the interleaved pixels in double.
MMAEREC_HOT void color_row(const float* const planes[6], const float* in, const float* rc, int n, bool exact,
                           float* de2) {
  double L0[kLabBlock], a0[kLabBlock], b0[kLabBlock], L1[kLabBlock], a1[kLabBlock], b1[kLabBlock];
  for (int i = 0; i < n; i += kLabBlock) {
    const int m = n - i < kLabBlock ? n - i : kLabBlock;
    if (!exact) {
      const float* block[6] = {planes[0] + i, planes[1] + i, planes[2] + i, planes[3] + i, planes[4] + i, planes[5] + i};
      delta_e2_planar(block, m, de2 + i);
      continue;
    }
    lab_block(in + 3 * i, m, L0, a0, b0);
    lab_block(rc + 3 * i, m, L1, a1, b1);
    for (int j = 0; j < m; ++j) {
      const double dL = L0[j] - L1[j], da = a0[j] - a1[j], db = b0[j] - b1[j];
      de2[i + j] = static_cast<float>(dL * dL + da * da + db * db);
    }
  }
}

// The first pass over the pixels, row by row for rows [y0, y1): both images deinterleaved into a three-row
// ring of planes, checked for non-finite values, turned into dE2 (de2), scale 0 of MSGMS computed from the ring
// (ms) and pooled into level 1 of its pyramid. Everything a pixel takes part in at full size happens while its
// rows are in L1, and the full-size planes are never written (one pass where there were five over 1.5 MB:
// check, deinterleave, colour, gradients, pooling). True when a value is not finite.
class FirstPass {
 public:
  FirstPass(const float* in, const float* rc, int w, int h, bool exact, float c, float* de2, float* ms,
            float* level1)
      : in_(in), rc_(rc), w_(w), h_(h), exact_(exact), c_(c), de2_(de2), ms_(ms), level1_(level1),
        ring_(static_cast<std::size_t>(18) * w), gms_(w) {}

  bool run(int y0, int y1) {
    if (y0 > 0) split(y0 - 1, false);
    split(y0, true);
    const int wo = w_ / 2, ho = h_ / 2;
    const std::size_t level_plane = static_cast<std::size_t>(wo) * ho;
    const float* rows[18];
    for (int y = y0; y < y1; ++y) {
      if (y + 1 < h_) split(y + 1, y + 1 < y1);
      for (int plane = 0; plane < 6; ++plane) {
        for (int k = 0; k < 3; ++k) rows[3 * plane + k] = y - 1 + k >= 0 && y - 1 + k < h_ ? row(plane, y - 1 + k) : nullptr;
      }
      gms_.compute(rows, 3, c_, ms_ + static_cast<std::size_t>(y) * w_);
      if (level1_ != nullptr && (y & 1) && y / 2 < ho) {
        // level 1 planes: a_0, b_0, a_1, b_1, a_2, b_2 (msgms_level1); ring planes: a_0..a_2, b_0..b_2.
        for (int ch = 0; ch < 3; ++ch) {
          const std::size_t at = static_cast<std::size_t>(y / 2) * wo;
          pool_row(row(ch, y - 1), row(ch, y), wo, level1_ + (2 * ch) * level_plane + at);
          pool_row(row(3 + ch, y - 1), row(3 + ch, y), wo, level1_ + (2 * ch + 1) * level_plane + at);
        }
      }
    }
    return bad_ != 0;
  }

 private:
  float* row(int plane, int y) { return ring_.data() + (static_cast<std::size_t>(plane) * 3 + y % 3) * w_; }

  // Row y into the ring; `own`: a row of this chunk (checked and given its dE2), else a neighbour's halo row.
  void split(int y, bool own) {
    const float* in = in_ + 3 * static_cast<std::size_t>(y) * w_;
    const float* rc = rc_ + 3 * static_cast<std::size_t>(y) * w_;
    float* planes[6];
    for (int plane = 0; plane < 6; ++plane) planes[plane] = row(plane, y);
    deinterleave(in, w_, planes[0], planes[1], planes[2]);
    deinterleave(rc, w_, planes[3], planes[4], planes[5]);
    if (!own) return;
    for (const float* plane : planes) bad_ |= any_nonfinite(plane, w_);  // checked where it is in L1
    color_row(planes, in, rc, w_, exact_, de2_ + static_cast<std::size_t>(y) * w_);
  }

  const float* in_;
  const float* rc_;
  int w_, h_;
  bool exact_;
  float c_;
  float* de2_;
  float* ms_;
  float* level1_;
  std::vector<float> ring_;
  GmsRow gms_;
  std::uint32_t bad_ = 0;
};

// map = (1 - bs) + mu * bc, and its max. The max keeps 16 running lanes so that it vectorises (a single
// running max is a reduction the compiler will not reorder).
MMAEREC_HOT float combine_max(const float* __restrict__ bs, const float* __restrict__ bc, std::size_t begin,
                              std::size_t end, float mu, float* __restrict__ map) {
  for (std::size_t i = begin; i < end; ++i) map[i] = (1.0f - bs[i]) + mu * bc[i];
  constexpr int kLanes = 16;
  float lanes[kLanes];
  for (float& l : lanes) l = -INFINITY;
  std::size_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) lanes[j] = map[i + j] > lanes[j] ? map[i + j] : lanes[j];
  }
  float best = -INFINITY;
  for (; i < end; ++i) best = map[i] > best ? map[i] : best;
  for (float l : lanes) best = l > best ? l : best;
  return best;
}

}  // namespace

long long first_nonfinite(const float* data, std::size_t n) {
  constexpr std::size_t kBlock = 4096;
  for (std::size_t b = 0; b < n; b += kBlock) {
    const std::size_t e = std::min(n, b + kBlock);
    if (any_nonfinite(data + b, e - b)) {
      for (std::size_t i = b; i < e; ++i) {
        if (!std::isfinite(data[i])) return static_cast<long long>(i);
      }
    }
  }
  return -1;
}

double aggregate_score(const float* map, std::size_t n, double topk_fraction) {
  if (n == 0) return 0.0;
  if (topk_fraction <= 0.0) return *std::max_element(map, map + n);
  std::size_t k = static_cast<std::size_t>(std::ceil(topk_fraction * static_cast<double>(n)));
  k = std::clamp<std::size_t>(k, 1, n);
  std::vector<float> copy(map, map + n);
  std::nth_element(copy.begin(), copy.begin() + (k - 1), copy.end(), std::greater<float>());
  double sum = 0.0;
  for (std::size_t i = 0; i < k; ++i) sum += copy[i];
  return sum / static_cast<double>(k);
}

const float* checked_recon(const float* input, const float* recon, int w, int h, const FusedParams& p,
                           WorkerPool* pool, FusedResult* result) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  if ((result->nonfinite_index = first_nonfinite(input, 3 * n)) >= 0) return nullptr;
  if ((result->nonfinite_index = first_nonfinite(recon, 3 * n)) >= 0) {
    result->nonfinite_in = 1;
    return nullptr;
  }
  if (p.shading_window <= 0) return recon;
  float* shaded = scratch(Scratch::ShadedRecon, 3 * n);
  transfer_shading(input, recon, w, h, p.shading_window, shaded, pool);
  return shaded;
}

// The non-finite value split_and_color flagged: the first in input, else in recon.
static void locate_nonfinite(const float* input, const float* recon, std::size_t values, FusedResult* result) {
  if ((result->nonfinite_index = first_nonfinite(input, values)) >= 0) return;
  result->nonfinite_index = first_nonfinite(recon, values);
  result->nonfinite_in = 1;
}

FusedResult fused_score(const float* input, const float* recon, int w, int h, const FusedParams& p, float* map,
                        WorkerPool* pool) {
  FusedResult result;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  const float* original_recon = recon;
  // With a shading window the inputs are checked before the transfer (it would smear a NaN); without, the
  // check rides on the first pass over the pixels (FirstPass).
  if (p.shading_window > 0 && !(recon = checked_recon(input, recon, w, h, p, pool, &result))) return result;
  float* de2 = scratch(Scratch::FusedColor, n);
  float* ms = scratch(Scratch::FusedMsgms, n);
  float* box_s = scratch(Scratch::FusedBoxS, n);
  float* box_c = scratch(Scratch::FusedBoxC, n);
  float* level1 = p.scales > 1 ? msgms_level1(3, w, h) : nullptr;
  const bool exact = p.mu / p.color_window > kFloatColorMaxMuPerWindow;
  const float c = static_cast<float>(p.c);
  std::atomic<bool> nonfinite{false};
  for_rows(pool, h, [&](int y0, int y1) {
    if (FirstPass(input, recon, w, h, exact, c, de2, ms, level1).run(y0, y1)) {
      nonfinite.store(true, std::memory_order_relaxed);
    }
  });
  if (nonfinite.load(std::memory_order_relaxed)) {
    locate_nonfinite(input, original_recon, 3 * n, &result);
    return result;
  }
  msgms_finish(level1, 3, w, h, p.scales, c, ms, pool);
  box_mean(ms, w, h, p.structure_window, p.border, box_s, pool);
  box_mean(de2, w, h, p.color_window, p.border, box_c, pool);
  float best = -INFINITY;
  std::mutex best_mutex;
  for_rows(pool, h, [&](int y0, int y1) {
    const float local = combine_max(box_s, box_c, static_cast<std::size_t>(y0) * w,
                                    static_cast<std::size_t>(y1) * w, static_cast<float>(p.mu), map);
    std::lock_guard<std::mutex> lock(best_mutex);
    best = std::max(best, local);
  });
  result.score = p.topk_fraction > 0.0 ? aggregate_score(map, n, p.topk_fraction) : best;
  return result;
}

}  // namespace mmaerec
