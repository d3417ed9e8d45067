#include "lab.h"

#include "parallel.h"
#include "simd.h"

namespace mmaerec {

MMAEREC_HOT void lab_block(const float* rgb, int n, double* L, double* a, double* b) {
  using namespace lab_detail;
  double lin[3 * kLabBlock], t[3 * kLabBlock];
  for (int i = 0; i < 3 * n; ++i) lin[i] = linearize(rgb[i]);
  for (int i = 0; i < n; ++i) {
    const double R = lin[3 * i], G = lin[3 * i + 1], B = lin[3 * i + 2];
    t[i] = (0.412453 * R + 0.357580 * G + 0.180423 * B) * (1.0 / kXn);
    t[kLabBlock + i] = (0.212671 * R + 0.715160 * G + 0.072169 * B) * (1.0 / kYn);
    t[2 * kLabBlock + i] = (0.019334 * R + 0.119193 * G + 0.950227 * B) * (1.0 / kZn);
  }
  for (int c = 0; c < 3; ++c) {
    double* tc = t + c * kLabBlock;
    for (int i = 0; i < n; ++i) tc[i] = f(tc[i]);
  }
  for (int i = 0; i < n; ++i) {
    const double fx = t[i], fy = t[kLabBlock + i], fz = t[2 * kLabBlock + i];
    L[i] = 116.0 * fy - 16.0;
    a[i] = 500.0 * (fx - fy);
    b[i] = 200.0 * (fy - fz);
  }
}

MMAEREC_HOT void delta_e2_planar(const float* const planes[6], int n, float* de2) {
  using namespace lab_detail;
  // f of X/Xn, Y, Z/Zn for both images, one flat loop per stage (each vectorises on its own).
  float t[2][3][kLabBlock];
  for (int k = 0; k < 2; ++k) {
    float lin[3][kLabBlock];
    for (int c = 0; c < 3; ++c) {
      const float* src = planes[3 * k + c];
      for (int i = 0; i < n; ++i) lin[c][i] = linearize_f(src[i]);
    }
    for (int i = 0; i < n; ++i) {
      const float R = lin[0][i], G = lin[1][i], B = lin[2][i];
      t[k][0][i] = (0.412453f * R + 0.357580f * G + 0.180423f * B) * static_cast<float>(1.0 / kXn);
      t[k][1][i] = (0.212671f * R + 0.715160f * G + 0.072169f * B);
      t[k][2][i] = (0.019334f * R + 0.119193f * G + 0.950227f * B) * static_cast<float>(1.0 / kZn);
    }
    for (int c = 0; c < 3; ++c) {
      for (int i = 0; i < n; ++i) t[k][c][i] = f_f(t[k][c][i]);
    }
  }
  for (int i = 0; i < n; ++i) {
    const float fx0 = t[0][0][i], fy0 = t[0][1][i], fz0 = t[0][2][i];
    const float fx1 = t[1][0][i], fy1 = t[1][1][i], fz1 = t[1][2][i];
    const float dL = 116.0f * (fy0 - fy1);
    const float da = 500.0f * ((fx0 - fy0) - (fx1 - fy1));
    const float db = 200.0f * ((fy0 - fz0) - (fy1 - fz1));
    de2[i] = dL * dL + da * da + db * db;
  }
}

namespace {
void lab_span(const float* rgb, std::size_t begin, std::size_t end, float* lab) {
  double L[kLabBlock], a[kLabBlock], b[kLabBlock];
  for (std::size_t i = begin; i < end; i += kLabBlock) {
    const int n = static_cast<int>(end - i < kLabBlock ? end - i : kLabBlock);
    lab_block(rgb + 3 * i, n, L, a, b);
    for (int j = 0; j < n; ++j) {
      lab[3 * (i + j)] = static_cast<float>(L[j]);
      lab[3 * (i + j) + 1] = static_cast<float>(a[j]);
      lab[3 * (i + j) + 2] = static_cast<float>(b[j]);
    }
  }
}
}  // namespace

void rgb_to_lab_f32(const float* rgb, std::size_t n, float* lab, WorkerPool* pool) {
  constexpr std::size_t kBlock = 4096;
  const int blocks = static_cast<int>((n + kBlock - 1) / kBlock);
  for_rows(pool, blocks, [&](int b0, int b1) {
    const std::size_t end = static_cast<std::size_t>(b1) * kBlock;
    lab_span(rgb, static_cast<std::size_t>(b0) * kBlock, end < n ? end : n, lab);
  });
}

}  // namespace mmaerec
