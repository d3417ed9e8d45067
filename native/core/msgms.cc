#include "msgms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.h"
#include "scratch.h"
#include "simd.h"

namespace mmaerec {

namespace {

// q = gx^2 + gy^2 + 1e-12 for one row, from the rows above/at/below (a zero row outside the image);
// Prewitt/3 with zero padding (the sign does not matter). v: scratch of w floats.
MMAEREC_HOT void grad_sq(const float* up, const float* mid, const float* dn, int w, float* v, float* q) {
  const float third = 1.0f / 3.0f;
  for (int x = 0; x < w; ++x) v[x] = up[x] + mid[x] + dn[x];
  for (int x = 1; x + 1 < w; ++x) {
    const float gx = (v[x - 1] - v[x + 1]) * third;
    const float gy = ((up[x - 1] + up[x] + up[x + 1]) - (dn[x - 1] + dn[x] + dn[x + 1])) * third;
    q[x] = gx * gx + gy * gy + 1e-12f;
  }
  // The two border columns, with zeros outside (the same column twice when w == 1).
  for (int x : {0, w - 1}) {
    const float vl = x > 0 ? v[x - 1] : 0.0f, vr = x + 1 < w ? v[x + 1] : 0.0f;
    const float ul = x > 0 ? up[x - 1] : 0.0f, ur = x + 1 < w ? up[x + 1] : 0.0f;
    const float dl = x > 0 ? dn[x - 1] : 0.0f, dr = x + 1 < w ? dn[x + 1] : 0.0f;
    const float gx = (vl - vr) * third;
    const float gy = ((ul + up[x] + ur) - (dl + dn[x] + dr)) * third;
    q[x] = gx * gx + gy * gy + 1e-12f;
  }
}

// acc += GMS from the squared magnitudes: (2 sqrt(q1 q2) + c) / (q1 + q2 + c), since g1 g2 = sqrt(q1 q2).
MMAEREC_HOT void gms_add(const float* qa, const float* qb, int w, float c, float* acc) {
  for (int x = 0; x < w; ++x) acc[x] += (2.0f * std::sqrt(qa[x] * qb[x]) + c) / (qa[x] + qb[x] + c);
}

// out = mean over channels of GMS(a_ch, b_ch), one scale.
void gms_mean(const std::vector<const float*>& a, const std::vector<const float*>& b, int w, int h, float c,
              float* out, WorkerPool* pool) {
  const int channels = static_cast<int>(a.size());
  const std::vector<float> zeros(w, 0.0f);
  for_rows(pool, h, [&](int y0, int y1) {
    std::vector<float> v(w), qa(w), qb(w);
    auto row = [&](const float* plane, int y) { return y < 0 || y >= h ? zeros.data() : plane + static_cast<size_t>(y) * w; };
    for (int y = y0; y < y1; ++y) {
      float* o = out + static_cast<size_t>(y) * w;
      std::fill(o, o + w, 0.0f);
      for (int ch = 0; ch < channels; ++ch) {
        grad_sq(row(a[ch], y - 1), row(a[ch], y), row(a[ch], y + 1), w, v.data(), qa.data());
        grad_sq(row(b[ch], y - 1), row(b[ch], y), row(b[ch], y + 1), w, v.data(), qb.data());
        gms_add(qa.data(), qb.data(), w, c, o);
      }
      const float inv = 1.0f / channels;
      for (int x = 0; x < w; ++x) o[x] *= inv;
    }
  });
}

// 2x2 average pool, stride 2, floor size.
void pool2(const float* in, int w, int h, float* out, WorkerPool* pool) {
  const int wo = w / 2, ho = h / 2;
  for_rows(pool, ho, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* r0 = in + static_cast<size_t>(2 * y) * w;
      const float* r1 = r0 + w;
      float* o = out + static_cast<size_t>(y) * wo;
      for (int x = 0; x < wo; ++x) o[x] = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
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

void msgms_planes(const float* const* a, const float* const* b, int channels, int w, int h, int scales,
                  float c, float* out, WorkerPool* pool) {
  std::vector<const float*> ca(a, a + channels), cb(b, b + channels);
  // The pyramid ping-pongs between two buffers, each holding the 2 * channels planes of one scale.
  const size_t level1 = static_cast<size_t>(w / 2) * (h / 2);
  float* pyramid[2] = {scratch(Scratch::MsgmsPyramidA, 2 * channels * level1),
                       scratch(Scratch::MsgmsPyramidB, 2 * channels * level1)};
  float* gms = scratch(Scratch::MsgmsGms, static_cast<size_t>(w) * h);
  int ws = w, hs = h;
  for (int s = 0; s < scales; ++s) {
    if (s == 0) {
      gms_mean(ca, cb, ws, hs, c, out, pool);
    } else {
      gms_mean(ca, cb, ws, hs, c, gms, pool);
      upsample_add(gms, ws, hs, out, w, h, pool);
    }
    if (s + 1 < scales) {
      const int wn = ws / 2, hn = hs / 2;
      const size_t plane = static_cast<size_t>(wn) * hn;
      float* next = pyramid[s % 2];
      for (int ch = 0; ch < channels; ++ch) {
        pool2(ca[ch], ws, hs, next + (2 * ch) * plane, pool);
        pool2(cb[ch], ws, hs, next + (2 * ch + 1) * plane, pool);
        ca[ch] = next + (2 * ch) * plane;
        cb[ch] = next + (2 * ch + 1) * plane;
      }
      ws = wn;
      hs = hn;
    }
  }
  const float inv = 1.0f / scales;
  const size_t n = static_cast<size_t>(w) * h;
  for (size_t i = 0; i < n; ++i) out[i] *= inv;
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
