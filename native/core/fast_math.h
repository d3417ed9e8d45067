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

namespace mmaerec::fmf {

// Single-precision counterparts (relative error about 2e-7, a few float ulps), for the fused score's colour
// term, where mu = 1e-3 and the box mean shrink their effect on the map far below 1e-5.

inline std::uint32_t bits_of(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline float from_bits(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

/** Natural log for normal positive x. */
inline float log_pos(float x) {
  const std::uint32_t b = bits_of(x);
  float e = from_bits((b >> 23) | 0x4B000000u) - (8388608.0f + 127.0f);  // exponent without int->float
  float m = from_bits((b & 0x007FFFFFu) | 0x3F800000u);
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1.0f : e;
  // log(1 + u), u in [-0.293, 0.415]: degree-9 Chebyshev fit in power form (max error 4e-8), no division.
  const float u = m - 1.0f;
  float p = 8.491219301e-02f;
  p = p * u - 1.447806292e-01f;
  p = p * u + 1.510253624e-01f;
  p = p * u - 1.655105671e-01f;
  p = p * u + 1.993663897e-01f;
  p = p * u - 2.500225614e-01f;
  p = p * u + 3.333507796e-01f;
  p = p * u - 4.999999005e-01f;
  p = p * u + 9.999998712e-01f;
  return e * 0.693147181f + p * u;
}

/** e^y for y in about [-80, 80]. */
inline float exp_small(float y) {
  const float t = y * 1.44269504f + 12582912.0f;  // 1.5 * 2^23
  const float k = t - 12582912.0f;
  const float r = (y - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;  // degree 7: first dropped term r^8/8! < 6e-9
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * from_bits((bits_of(t) + 127u) << 23);
}

/**
 * x^2.4 for x in [0.08, 1] (the sRGB curve's power; (0.04045 + 0.055) / 1.055 = 0.0892 is where it starts) as
 * (x * x^(-1/5))^3. y = x^(-1/5) from a bit-level first guess (within 3.2 %), one fourth-order step
 * y <- y (1 + e/5 + 3e^2/25 + 11e^3/125 + 44e^4/625), e = 1 - x y^5 (the series of (1 - e)^(-1/5); 3e-5 left),
 * then one division-free Newton step. Relative error 4.9e-7 over the range, against 7.8e-7 for
 * exp(2.4 log x) with the functions above, at about two thirds of their instructions (measured, native/test).
 */
inline float pow_2_4(float x) {
  // bits(x^(-1/5)) ~ 6/5 * bits(1.0) - bits(x) / 5, the constant tuned for the smallest worst error on the range.
  float y = from_bits(0x4C2BAC00u - static_cast<std::uint32_t>(static_cast<float>(bits_of(x)) * 0.2f));
  float y2 = y * y;
  float e = 1.0f - x * (y2 * y2 * y);
  y = y + y * e * (0.2f + e * (0.12f + e * (0.088f + e * 0.0704f)));
  y2 = y * y;
  e = 1.0f - x * (y2 * y2 * y);
  y = y + y * e * 0.2f;
  const float z = x * y;
  return z * z * z;
}

/**
 * Cube root of a normal positive x: y = x^(-1/3) from a bit-level first guess (within 4%), three
 * division-free Newton steps y <- y (4 - x y^3) / 3 (error 4e-2 -> 3e-3 -> 2e-5 -> float rounding), then
 * x^(1/3) = x y^2. Cheaper than exp(log(x) / 3).
 */
inline float cbrt_pos(float x) {
  // bits(x^(-1/3)) ~ 4/3 * bits(1.0) - bits(x) / 3; the division by 3 in float is exact enough for a guess.
  const std::uint32_t b = bits_of(x);
  float y = from_bits(0x54A2FA8Cu - static_cast<std::uint32_t>(static_cast<float>(b) * (1.0f / 3.0f)));
  for (int i = 0; i < 3; ++i) {
    const float y3 = y * y * y;
    y = y + y * (1.0f - x * y3) * (1.0f / 3.0f);  // correction form: rounding stays in the small term
  }
  return x * y * y;
}

}  // namespace mmaerec::fmf
