// A tiny assertion helper for the native test executables: count failures, print each, exit non-zero.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace check {

inline int& failures() {
  static int n = 0;
  return n;
}

inline void that(bool ok, const std::string& what) {
  if (!ok) {
    ++failures();
    std::printf("  FAIL %s\n", what.c_str());
  }
}

inline void near(double got, double want, double tol, const std::string& what) {
  if (!(std::fabs(got - want) <= tol)) {
    ++failures();
    std::printf("  FAIL %s: got %.12g want %.12g (tol %.3g)\n", what.c_str(), got, want, tol);
  }
}

/** Max |a - b| over two arrays. */
template <typename A, typename B>
double max_abs_diff(const A& a, const B& b, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!(d <= m)) m = d;  // NaN wins
  }
  return m;
}

struct Case {
  const char* name;
  std::function<void()> run;
};

inline int run_all(const char* suite, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    const int before = failures();
    c.run();
    std::printf("%s %s: %s\n", failures() == before ? "ok  " : "FAIL", suite, c.name);
  }
  std::printf("%s: %zu cases, %d failed checks\n", suite, cases.size(), failures());
  return failures() == 0 ? 0 : 1;
}

/** Deterministic pseudo-random floats in [0, 1) (xorshift), same on every platform. */
struct Rng {
  unsigned long long s;
  explicit Rng(unsigned long long seed) : s(seed * 2654435761ULL + 1) {}
  float next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<float>((s >> 40) & 0xFFFFFF) / 16777216.0f;
  }
};

// n uniform values in [0, 1), reproducible from the seed.
inline std::vector<float> random_image(size_t n, unsigned long long seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.next();
  return v;
}

}  // namespace check
