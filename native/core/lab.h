// RGB in [0, 1] -> CIE L*a*b* (D65), the closed form of what OpenCV's COLOR_RGB2Lab defines for float
// images (method.md §6): sRGB gamma expansion, the matrix of eq. 8, D65 white, eqs. 9-12 with the exact
// constants of eq. 12 ((6/29)^3, 841/108, 4/29). Computed in double; inputs are clamped to [0, 1] first
// (a reconstruction may overshoot, and the sRGB curve is defined on [0, 1] only).
#pragma once
#include <cstddef>

#include "fast_math.h"

namespace mmaerec {
class WorkerPool;

namespace lab_detail {
constexpr double kXn = 0.950456, kYn = 1.0, kZn = 1.088754;
constexpr double kEps = 216.0 / 24389.0;     // (6/29)^3
constexpr double kSlope = 841.0 / 108.0;     // (29/6)^2 / 3
constexpr double kOffset = 4.0 / 29.0;

inline double clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

/** sRGB -> linear: v/12.92 below 0.04045, ((v+0.055)/1.055)^2.4 above; both sides computed, one kept. */
inline double linearize(double v) {
  v = clamp01(v);
  const double curve = fm::exp_small(2.4 * fm::log_pos((v + 0.055) * (1.0 / 1.055)));
  return v <= 0.04045 ? v * (1.0 / 12.92) : curve;
}

/** f of eq. 12: cube root above (6/29)^3, the linear segment below. */
inline double f(double t) {
  const double root = fm::exp_small(fm::log_pos(t > kEps ? t : kEps) * (1.0 / 3.0));
  return t > kEps ? root : kSlope * t + kOffset;
}
}  // namespace lab_detail

/** One pixel. r, g, b nominally in [0, 1]; L in 0..100. (Scalar form; blocks go through lab_block.) */
inline void rgb_to_lab(double r, double g, double b, double* L, double* a, double* bb) {
  using namespace lab_detail;
  const double R = linearize(r), G = linearize(g), B = linearize(b);
  const double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) * (1.0 / kXn);
  const double Y = (0.212671 * R + 0.715160 * G + 0.072169 * B) * (1.0 / kYn);
  const double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) * (1.0 / kZn);
  const double fx = f(X), fy = f(Y), fz = f(Z);
  *L = 116.0 * fy - 16.0;
  *a = 500.0 * (fx - fy);
  *bb = 200.0 * (fy - fz);
}

namespace lab_detail {
inline float linearize_f(float v) {
  v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
  const float curve = fmf::pow_2_4((v + 0.055f) * (1.0f / 1.055f));
  return v <= 0.04045f ? v * (1.0f / 12.92f) : curve;
}
inline float f_f(float t) {
  constexpr float eps = static_cast<float>(kEps);
  const float root = fmf::cbrt_pos(t > eps ? t : eps);
  return t > eps ? root : static_cast<float>(kSlope) * t + static_cast<float>(kOffset);
}
}  // namespace lab_detail

/** Pixels per lab_block call: its scratch stays in L1. */
constexpr int kLabBlock = 256;

/**
 * Lab of n <= kLabBlock interleaved RGB pixels into planar L, a, b. Same numbers as rgb_to_lab, arranged as
 * flat loops (one per stage) because the compilers do not vectorise the whole per-pixel chain at once.
 */
void lab_block(const float* rgb, int n, double* L, double* a, double* b);

/**
 * The colour term's input, dE2 = dL^2 + da^2 + db^2 between two blocks of n <= kLabBlock pixels given as planes
 * (planes[0..2]: R, G, B of the first image, planes[3..5]: of the second; the fused score deinterleaves into
 * planes anyway, and planar loads need no shuffles), in single precision (fmf): about 4x cheaper than the double
 * path. Its error (a few float ulps of Lab, at most ~1e-4 in a* for saturated colours) reaches the fused map
 * multiplied by mu = 1e-3 and averaged by the colour box filter, i.e. below 1e-6; the parity tests check the map
 * against the double reference.
 */
void delta_e2_planar(const float* const planes[6], int n, float* de2);

/** rgb: n interleaved RGB pixels; lab: n interleaved L, a, b. */
void rgb_to_lab_f32(const float* rgb, std::size_t n, float* lab, WorkerPool* pool);

}  // namespace mmaerec
