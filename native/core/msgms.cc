#include "msgms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.h"
#include "scratch.h"
#include "simd.h"

namespace mmaerec {

namespace {

// The row sums and differences Prewitt needs: v = up + mid + dn (for gx) and d = up - dn (for gy), with a zero
// column on each side (v[-1], v[w] exist and are 0), so the gradient loop has no border case.
MMAEREC_HOT void column_terms(const float* __restrict__ up, const float* __restrict__ mid,
                              const float* __restrict__ dn, int w, float* __restrict__ v, float* __restrict__ d) {
  for (int x = 0; x < w; ++x) {
    v[x] = up[x] + mid[x] + dn[x];
    d[x] = up[x] - dn[x];
  }
}

// q = gx^2 + gy^2 + 1e-12 from column_terms, Prewitt/3 with zero padding (the sign does not matter).
MMAEREC_HOT void grad_sq(const float* __restrict__ v, const float* __restrict__ d, int w, float* __restrict__ q) {
  const float third = 1.0f / 3.0f;
  for (int x = 0; x < w; ++x) {
    const float gx = (v[x - 1] - v[x + 1]) * third;
    const float gy = (d[x - 1] + d[x] + d[x + 1]) * third;
    q[x] = gx * gx + gy * gy + 1e-12f;
  }
}

// acc += GMS with b's squared magnitudes computed on the fly: (2 sqrt(qa qb) + c) / (qa + qb + c), since
// g1 g2 = sqrt(q1 q2).
MMAEREC_HOT void gms_add(const float* __restrict__ qa, const float* __restrict__ v, const float* __restrict__ d,
                         int w, float c, float* __restrict__ acc) {
  const float third = 1.0f / 3.0f;
  for (int x = 0; x < w; ++x) {
    const float gx = (v[x - 1] - v[x + 1]) * third;
    const float gy = (d[x - 1] + d[x] + d[x + 1]) * third;
    const float qb = gx * gx + gy * gy + 1e-12f;
    acc[x] += (2.0f * std::sqrt(qa[x] * qb) + c) / (qa[x] + qb + c);
  }
}

// out = mean over channels of GMS(a_ch, b_ch), one scale. With `next` (2 * channels planes of (w/2) x (h/2)),
// also the next scale's 2x2 average pool of every plane, made from the rows the gradients just read, while they
// are in cache.
void gms_mean(const std::vector<const float*>& a, const std::vector<const float*>& b, int w, int h, float c,
              float* out, float* next, WorkerPool* pool) {
  const int channels = static_cast<int>(a.size());
  const int wo = w / 2, ho = h / 2;
  const size_t next_plane = static_cast<size_t>(wo) * ho;
  for_rows(pool, h, [&](int y0, int y1) {
    GmsRow gms(w);
    std::vector<const float*> rows(6 * channels);
    auto row = [&](const float* plane, int y) { return y < 0 || y >= h ? nullptr : plane + static_cast<size_t>(y) * w; };
    for (int y = y0; y < y1; ++y) {
      for (int ch = 0; ch < channels; ++ch) {
        for (int k = 0; k < 3; ++k) {
          rows[3 * ch + k] = row(a[ch], y - 1 + k);
          rows[3 * (channels + ch) + k] = row(b[ch], y - 1 + k);
        }
      }
      gms.compute(rows.data(), channels, c, out + static_cast<size_t>(y) * w);
      if (next != nullptr && (y & 1) && y / 2 < ho) {
        for (int ch = 0; ch < channels; ++ch) {
          const size_t at = static_cast<size_t>(y / 2) * wo;
          pool_row(row(a[ch], y - 1), row(a[ch], y), wo, next + (2 * ch) * next_plane + at);
          pool_row(row(b[ch], y - 1), row(b[ch], y), wo, next + (2 * ch + 1) * next_plane + at);
        }
      }
    }
  });
}

MMAEREC_HOT void blend_add(const float* ra, const float* rb, float wb, int w, float* o) {
  const float wa = 1.0f - wb;
  for (int x = 0; x < w; ++x) o[x] += wa * ra[x] + wb * rb[x];
}

// Bilinear source positions for one axis (half-pixel centres, torch align_corners=False).
struct Axis {
  std::vector<int> i0, i1;
  std::vector<float> l1;
};

Axis make_axis(int in, int out) {
  Axis ax;
  ax.i0.resize(out);
  ax.i1.resize(out);
  ax.l1.resize(out);
  const double scale = static_cast<double>(in) / out;
  for (int d = 0; d < out; ++d) {
    double src = (d + 0.5) * scale - 0.5;
    if (src < 0) src = 0;
    const int i0 = static_cast<int>(src);
    ax.i0[d] = i0;
    ax.i1[d] = i0 < in - 1 ? i0 + 1 : i0;
    ax.l1[d] = static_cast<float>(src - i0);
  }
  return ax;
}

// out += bilinear upsampling of small (ws x hs) to w x h: each small row is interpolated horizontally once,
// then every output row blends two of those rows (a contiguous, vectorisable loop).
void upsample_add(const float* small, int ws, int hs, float* out, int w, int h, WorkerPool* pool) {
  const Axis ax = make_axis(ws, w), ay = make_axis(hs, h);
  float* wide = scratch(Scratch::MsgmsWide, static_cast<size_t>(hs) * w);
  for_rows(pool, hs, [&](int r0, int r1) {
    for (int r = r0; r < r1; ++r) {
      const float* src = small + static_cast<size_t>(r) * ws;
      float* dst = wide + static_cast<size_t>(r) * w;
      for (int x = 0; x < w; ++x) {
        const float l1 = ax.l1[x];
        dst[x] = (1.0f - l1) * src[ax.i0[x]] + l1 * src[ax.i1[x]];
      }
    }
  });
  for_rows(pool, h, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      blend_add(wide + static_cast<size_t>(ay.i0[y]) * w, wide + static_cast<size_t>(ay.i1[y]) * w,
                ay.l1[y], w, out + static_cast<size_t>(y) * w);
    }
  });
}

}  // namespace

GmsRow::GmsRow(int w) : w_(w), v_(w + 2, 0.0f), d_(w + 2, 0.0f), qa_(w), zeros_(w, 0.0f) {}

void GmsRow::compute(const float* const* rows, int channels, float c, float* out) {
  auto at = [&](int i) { return rows[i] ? rows[i] : zeros_.data(); };
  std::fill(out, out + w_, 0.0f);
  for (int ch = 0; ch < channels; ++ch) {
    const int ia = 3 * ch, ib = 3 * (channels + ch);
    // v and d carry a zero column at each end (index -1 and w): the gradient loops have no border case.
    column_terms(at(ia), at(ia + 1), at(ia + 2), w_, v_.data() + 1, d_.data() + 1);
    grad_sq(v_.data() + 1, d_.data() + 1, w_, qa_.data());
    column_terms(at(ib), at(ib + 1), at(ib + 2), w_, v_.data() + 1, d_.data() + 1);
    gms_add(qa_.data(), v_.data() + 1, d_.data() + 1, w_, c, out);
  }
  const float inv = 1.0f / channels;
  for (int x = 0; x < w_; ++x) out[x] *= inv;
}

MMAEREC_HOT void pool_row(const float* __restrict__ r0, const float* __restrict__ r1, int wo, float* __restrict__ o) {
  for (int x = 0; x < wo; ++x) o[x] = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
}

float* msgms_level1(int channels, int w, int h) {
  return scratch(Scratch::MsgmsPyramidA, 2 * channels * (static_cast<size_t>(w / 2) * (h / 2)));
}

void msgms_finish(const float* level1, int channels, int w, int h, int scales, float c, float* out,
                  WorkerPool* pool) {
  std::vector<const float*> ca(channels), cb(channels);
  // The pyramid ping-pongs: level 1 in MsgmsPyramidA (msgms_level1), level 2 in B, level 3 in A again, ...
  const size_t level1_size = 2 * channels * (static_cast<size_t>(w / 2) * (h / 2));
  float* pyramid[2] = {scratch(Scratch::MsgmsPyramidB, level1_size), scratch(Scratch::MsgmsPyramidA, level1_size)};
  float* gms = scratch(Scratch::MsgmsGms, static_cast<size_t>(w) * h);
  int ws = w / 2, hs = h / 2;
  const float* level = level1;
  for (int s = 1; s < scales; ++s) {
    const size_t plane = static_cast<size_t>(ws) * hs;
    for (int ch = 0; ch < channels; ++ch) {
      ca[ch] = level + (2 * ch) * plane;
      cb[ch] = level + (2 * ch + 1) * plane;
    }
    float* next = s + 1 < scales ? pyramid[(s - 1) % 2] : nullptr;
    gms_mean(ca, cb, ws, hs, c, gms, next, pool);
    upsample_add(gms, ws, hs, out, w, h, pool);
    level = next;
    ws /= 2;
    hs /= 2;
  }
  const float inv = 1.0f / scales;
  const size_t n = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < n; ++i) out[i] *= inv;
}

void msgms_planes(const float* const* a, const float* const* b, int channels, int w, int h, int scales,
                  float c, float* out, WorkerPool* pool) {
  std::vector<const float*> ca(a, a + channels), cb(b, b + channels);
  float* level1 = scales > 1 ? msgms_level1(channels, w, h) : nullptr;
  gms_mean(ca, cb, w, h, c, out, level1, pool);
  msgms_finish(level1, channels, w, h, scales, c, out, pool);
}

void msgms_rgb(const float* a, const float* b, int w, int h, int scales, float c, float* out,
               WorkerPool* pool) {
  const size_t n = static_cast<size_t>(w) * h;
  float* planes = scratch(Scratch::MsgmsRgbPlanes, 6 * n);
  for (size_t i = 0; i < n; ++i) {
    for (int ch = 0; ch < 3; ++ch) {
      planes[ch * n + i] = a[3 * i + ch];
      planes[(3 + ch) * n + i] = b[3 * i + ch];
    }
  }
  const float* pa[3] = {&planes[0], &planes[n], &planes[2 * n]};
  const float* pb[3] = {&planes[3 * n], &planes[4 * n], &planes[5 * n]};
  msgms_planes(pa, pb, 3, w, h, scales, c, out, pool);
}

}  // namespace mmaerec
