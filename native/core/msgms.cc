#include "msgms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel.h"
#include "simd.h"

namespace mmaerec {

namespace {

// A zero-padded copy of row y of a plane (zeros when y is outside): padded[i] = row[i-1], 1 <= i <= w.
void load_padded(const float* plane, int w, int h, int y, float* padded) {
  padded[0] = padded[w + 1] = 0.0f;
  if (y < 0 || y >= h) {
    std::fill(padded + 1, padded + w + 1, 0.0f);
  } else {
    std::copy(plane + static_cast<size_t>(y) * w, plane + static_cast<size_t>(y + 1) * w, padded + 1);
  }
}

// q = gx^2 + gy^2 + 1e-12 for one row from three padded rows (Prewitt/3; the sign does not matter).
MMAEREC_HOT void grad_sq(const float* up, const float* mid, const float* dn, int w, float* q) {
  const float third = 1.0f / 3.0f;
  for (int x = 0; x < w; ++x) {
    const float gx = ((up[x] + mid[x] + dn[x]) - (up[x + 2] + mid[x + 2] + dn[x + 2])) * third;
    const float gy = ((up[x] + up[x + 1] + up[x + 2]) - (dn[x] + dn[x + 1] + dn[x + 2])) * third;
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
  for_rows(pool, h, [&](int y0, int y1) {
    const size_t pw = static_cast<size_t>(w) + 2;
    std::vector<float> rows(pw * 6), qa(w), qb(w);
    float* pa[3] = {&rows[0], &rows[pw], &rows[2 * pw]};
    float* pb[3] = {&rows[3 * pw], &rows[4 * pw], &rows[5 * pw]};
    for (int y = y0; y < y1; ++y) {
      float* o = out + static_cast<size_t>(y) * w;
      std::fill(o, o + w, 0.0f);
      for (int ch = 0; ch < channels; ++ch) {
        for (int d = 0; d < 3; ++d) {
          load_padded(a[ch], w, h, y - 1 + d, pa[d]);
          load_padded(b[ch], w, h, y - 1 + d, pb[d]);
        }
        grad_sq(pa[0], pa[1], pa[2], w, qa.data());
        grad_sq(pb[0], pb[1], pb[2], w, qb.data());
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

// out += bilinear upsampling of small (ws x hs) to w x h.
void upsample_add(const float* small, int ws, int hs, float* out, int w, int h, WorkerPool* pool) {
  const Axis ax = make_axis(ws, w), ay = make_axis(hs, h);
  for_rows(pool, h, [&](int y0, int y1) {
    std::vector<float> v(ws);
    for (int y = y0; y < y1; ++y) {
      const float* ra = small + static_cast<size_t>(ay.i0[y]) * ws;
      const float* rb = small + static_cast<size_t>(ay.i1[y]) * ws;
      const float wb = ay.l1[y], wa = 1.0f - wb;
      for (int x = 0; x < ws; ++x) v[x] = wa * ra[x] + wb * rb[x];
      float* o = out + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; ++x) {
        const float l1 = ax.l1[x];
        o[x] += (1.0f - l1) * v[ax.i0[x]] + l1 * v[ax.i1[x]];
      }
    }
  });
}

}  // namespace

void msgms_planes(const float* const* a, const float* const* b, int channels, int w, int h, int scales,
                  float c, float* out, WorkerPool* pool) {
  std::vector<const float*> ca(a, a + channels), cb(b, b + channels);
  std::vector<std::vector<float>> pyramid(2 * static_cast<size_t>(channels));
  std::vector<float> gms(static_cast<size_t>(w) * h);
  int ws = w, hs = h;
  for (int s = 0; s < scales; ++s) {
    if (s == 0) {
      gms_mean(ca, cb, ws, hs, c, out, pool);
    } else {
      gms_mean(ca, cb, ws, hs, c, gms.data(), pool);
      upsample_add(gms.data(), ws, hs, out, w, h, pool);
    }
    if (s + 1 < scales) {
      const int wn = ws / 2, hn = hs / 2;
      for (int ch = 0; ch < channels; ++ch) {
        for (int k = 0; k < 2; ++k) {
          // Pool into a fresh buffer: the source may be the buffer of the previous scale.
          std::vector<float> next(static_cast<size_t>(wn) * hn);
          pool2(k == 0 ? ca[ch] : cb[ch], ws, hs, next.data(), pool);
          auto& slot = pyramid[2 * ch + k];
          slot.swap(next);
          (k == 0 ? ca[ch] : cb[ch]) = slot.data();
        }
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
  std::vector<float> planes(6 * n);
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
