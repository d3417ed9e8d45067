// Straight-from-the-definition double-precision versions of the kernels (O(k^2) windows, explicit zero
// padding, libm pow/cbrt), written independently of native/core to check it, on x86_64 and under qemu.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace brute {

inline double lin(double v) {
  v = std::min(1.0, std::max(0.0, v));
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}
inline double f(double t) { return t > std::pow(6.0 / 29.0, 3) ? std::cbrt(t) : 841.0 / 108.0 * t + 4.0 / 29.0; }
inline void lab(double r, double g, double b, double out[3]) {
  const double R = lin(r), G = lin(g), B = lin(b);
  const double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / 0.950456;
  const double Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
  const double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.088754;
  out[0] = 116 * f(Y) - 16;
  out[1] = 500 * (f(X) - f(Y));
  out[2] = 200 * (f(Y) - f(Z));
}

using Img = std::vector<double>;

inline Img box(const Img& in, int w, int h, int k, bool valid) {
  Img out(in.size());
  const int r = k / 2;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double s = 0;
      int count = 0;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          s += in[yy * w + xx];
          ++count;
        }
      out[y * w + x] = valid ? s / count : s / (k * k);
    }
  return out;
}

inline double at0(const Img& p, int w, int h, int x, int y) {
  return (x < 0 || y < 0 || x >= w || y >= h) ? 0.0 : p[y * w + x];
}

inline Img gms(const Img& a, const Img& b, int w, int h, double c) {
  Img out(a.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double g[2];
      for (int k = 0; k < 2; ++k) {
        const Img& p = k == 0 ? a : b;
        double gx = 0, gy = 0;
        for (int d = -1; d <= 1; ++d) {
          gx += (at0(p, w, h, x - 1, y + d) - at0(p, w, h, x + 1, y + d)) / 3;
          gy += (at0(p, w, h, x + d, y - 1) - at0(p, w, h, x + d, y + 1)) / 3;
        }
        g[k] = std::sqrt(gx * gx + gy * gy + 1e-12);
      }
      out[y * w + x] = (2 * g[0] * g[1] + c) / (g[0] * g[0] + g[1] * g[1] + c);
    }
  return out;
}

inline Img pool(const Img& a, int w, int h) {
  const int wo = w / 2, ho = h / 2;
  Img out(static_cast<size_t>(wo) * ho);
  for (int y = 0; y < ho; ++y)
    for (int x = 0; x < wo; ++x)
      out[y * wo + x] = (a[2 * y * w + 2 * x] + a[2 * y * w + 2 * x + 1] + a[(2 * y + 1) * w + 2 * x] +
                         a[(2 * y + 1) * w + 2 * x + 1]) / 4;
  return out;
}

inline Img upsample(const Img& a, int ws, int hs, int w, int h) {
  Img out(static_cast<size_t>(w) * h);
  auto src = [](int d, int in, int out_n, int* i0, int* i1, double* l1) {
    double s = (d + 0.5) * in / out_n - 0.5;
    if (s < 0) s = 0;
    *i0 = static_cast<int>(std::floor(s));
    *i1 = std::min(*i0 + 1, in - 1);
    *l1 = s - *i0;
  };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int y0, y1, x0, x1;
      double ly, lx;
      src(y, hs, h, &y0, &y1, &ly);
      src(x, ws, w, &x0, &x1, &lx);
      out[y * w + x] = (1 - ly) * ((1 - lx) * a[y0 * ws + x0] + lx * a[y0 * ws + x1]) +
                       ly * ((1 - lx) * a[y1 * ws + x0] + lx * a[y1 * ws + x1]);
    }
  return out;
}

/** Mean over channels of the mean over scales, per channel (the order method.md states). */
inline Img msgms(const std::vector<Img>& a, const std::vector<Img>& b, int w, int h, int scales, double c) {
  Img out(static_cast<size_t>(w) * h, 0.0);
  for (size_t ch = 0; ch < a.size(); ++ch) {
    Img pa = a[ch], pb = b[ch];
    int ws = w, hs = h;
    for (int s = 0; s < scales; ++s) {
      if (s > 0) {
        pa = pool(pa, ws, hs);
        pb = pool(pb, ws, hs);
        ws /= 2;
        hs /= 2;
      }
      const Img up = upsample(gms(pa, pb, ws, hs, c), ws, hs, w, h);
      for (size_t i = 0; i < out.size(); ++i) out[i] += up[i] / scales / a.size();
    }
  }
  return out;
}

}  // namespace brute
