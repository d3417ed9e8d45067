#include "fused.h"

#include <algorithm>
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

// Deinterleave both images into planes and compute dE2 = dL^2 + da^2 + db^2 in the same pass, in single
// precision when mu is small enough for its error not to show (kFloatColorMaxMuPerWindow), else in double.
MMAEREC_HOT void split_and_color(const float* in, const float* rc, std::size_t begin, std::size_t end,
                                 std::size_t n, bool exact, float* planes, float* de2) {
  deinterleave(in + 3 * begin, end - begin, planes + begin, planes + n + begin, planes + 2 * n + begin);
  deinterleave(rc + 3 * begin, end - begin, planes + 3 * n + begin, planes + 4 * n + begin, planes + 5 * n + begin);
  double L0[kLabBlock], a0[kLabBlock], b0[kLabBlock], L1[kLabBlock], a1[kLabBlock], b1[kLabBlock];
  for (std::size_t i = begin; i < end; i += kLabBlock) {
    const int m = static_cast<int>(end - i < kLabBlock ? end - i : kLabBlock);
    if (!exact) {
      delta_e2_block(in + 3 * i, rc + 3 * i, m, de2 + i);
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
  // Exponent bits all ones = inf or NaN; an integer OR-reduction vectorises (a float one would not).
  constexpr std::size_t kBlock = 4096;
  for (std::size_t b = 0; b < n; b += kBlock) {
    const std::size_t e = std::min(n, b + kBlock);
    std::uint32_t bad = 0;
    for (std::size_t i = b; i < e; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, data + i, sizeof bits);
      bad |= static_cast<std::uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
    }
    if (bad) {
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

FusedResult fused_score(const float* input, const float* recon, int w, int h, const FusedParams& p, float* map,
                        WorkerPool* pool) {
  FusedResult result;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  if (!(recon = checked_recon(input, recon, w, h, p, pool, &result))) return result;
  float* planes = scratch(Scratch::FusedPlanes, 6 * n);
  float* de2 = scratch(Scratch::FusedColor, n);
  float* ms = scratch(Scratch::FusedMsgms, n);
  float* box_s = scratch(Scratch::FusedBoxS, n);
  float* box_c = scratch(Scratch::FusedBoxC, n);
  for_rows(pool, h, [&](int y0, int y1) {
    split_and_color(input, recon, static_cast<std::size_t>(y0) * w, static_cast<std::size_t>(y1) * w, n,
                    p.mu / p.color_window > kFloatColorMaxMuPerWindow, planes, de2);
  });
  const float* pa[3] = {&planes[0], &planes[n], &planes[2 * n]};
  const float* pb[3] = {&planes[3 * n], &planes[4 * n], &planes[5 * n]};
  msgms_planes(pa, pb, 3, w, h, p.scales, static_cast<float>(p.c), ms, pool);
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
