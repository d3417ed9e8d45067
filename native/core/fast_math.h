// Double-precision exp and log for the Lab conversion, written so that loops calling them vectorise
// (no table look-ups, no branches, no calls into libm). Relative error below 1e-10 on the ranges used
// (log: x in [1e-3, 2]; exp: y in [-20, 1]), checked against libm by native/test. That is what the Lab
// conversion needs (its a* channel amplifies f's error 500x; 1e-10 keeps Lab within 1e-6 of the exact
// formula) at about two thirds of the cost of full double precision.
// They are not general-purpose: no handling of zero, negatives, infinities or NaN.
#pragma once
#include <cstdint>
#include <cstring>

namespace mmaerec::fm {

inline std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

constexpr double kLn2 = 0.6931471805599453094;
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln2 split so that k*kLn2Hi is exact for |k| < 2^20
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.4426950408889634074;
constexpr double kSqrt2 = 1.4142135623730950488;
constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds a small double to an integer

/** Natural log for normal positive x: x = m * 2^e, m in [sqrt(1/2), sqrt(2)), log m by the atanh series. */
inline double log_pos(double x) {
  const std::uint64_t b = bits_of(x);
  // The exponent as a double without an int->double conversion (which AVX2 lacks for 64-bit lanes).
  double e = from_bits((b >> 52) | 0x4330000000000000ULL) - (4503599627370496.0 + 1023.0);
  double m = from_bits((b & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);
  const bool big = m > kSqrt2;
  m = big ? m * 0.5 : m;
  e = big ? e + 1.0 : e;
  const double s = (m - 1.0) / (m + 1.0);  // |s| <= 0.1716
  const double s2 = s * s;
  // 2*atanh(s) = 2s(1 + s^2/3 + s^4/5 + ...); the first dropped term, 2 s^13/13, is below 2e-11.
  double p = 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return e * kLn2Hi + (e * kLn2Lo + 2.0 * s * p);
}

/** e^y for y in about [-700, 700]: y = k ln2 + r, |r| <= ln2/2, Taylor polynomial of degree 9 for e^r
 * (first dropped term r^10/10! < 1e-11). */
inline double exp_small(double y) {
  const double t = y * kLog2e + kRound;
  const double k = t - kRound;
  const double r = (y - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 362880.0;  // 1/9!
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k from the low bits of t, which hold k (two's complement) after the 1.5*2^52 shift.
  const double scale = from_bits((bits_of(t) + 1023ULL) << 52);
  return p * scale;
}

}  // namespace mmaerec::fm
