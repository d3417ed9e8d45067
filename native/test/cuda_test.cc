// CUDA kernels against the CPU core (which core_test checks against brute force): every kernel within
// 1e-5 max abs. Exits 0 with a SKIP line when no CUDA device is usable (no GPU, no driver).
#include <cstdio>
#include <string>
#include <vector>

#include "../core/box_filter.h"
#include "../core/fused.h"
#include "../core/lab.h"
#include "../core/msgms.h"
#include "../core/score_device.h"
#include "../cuda/scoring.h"
#include "check.h"

using namespace mmaerec;

namespace {

void pair(int w, int h, unsigned long long seed, std::vector<float>* a, std::vector<float>* b) {
  *a = check::random_image(3 * static_cast<size_t>(w) * h, seed);
  *b = *a;
  check::Rng rng(seed + 1);
  for (int y = h / 4; y < h / 2; ++y)
    for (int x = w / 3; x < w / 2; ++x)
      for (int c = 0; c < 3; ++c) (*b)[3 * (static_cast<size_t>(y) * w + x) + c] = rng.next();
}

void test_lab() {
  const int n = 50000;
  const auto rgb = check::random_image(3 * n, 3);
  std::vector<float> cpu(3 * n), gpu(3 * n);
  std::string err;
  rgb_to_lab_f32(rgb.data(), n, cpu.data(), nullptr);
  check::that(cuda::rgb_to_lab(rgb.data(), n, gpu.data(), &err), "cuda rgb_to_lab ran: " + err);
  const double d = check::max_abs_diff(cpu, gpu, cpu.size());
  std::printf("  Lab max abs diff %.3g\n", d);
  check::that(d < 1e-5, "Lab GPU vs CPU < 1e-5");
}

void test_box_msgms() {
  for (auto [w, h] : {std::pair<int, int>{256, 256}, {37, 29}}) {
    const auto plane = check::random_image(static_cast<size_t>(w) * h, w);
    for (int k : {1, 11, 21}) {
      for (Border b : {Border::Valid, Border::Zero}) {
        std::vector<float> cpu(w * h), gpu(w * h);
        std::string err;
        box_mean(plane.data(), w, h, k, b, cpu.data(), nullptr);
        check::that(cuda::box_mean(plane.data(), w, h, k, b, gpu.data(), &err), "cuda box ran: " + err);
        check::that(check::max_abs_diff(cpu, gpu, cpu.size()) < 1e-5, "box GPU vs CPU k=" + std::to_string(k));
      }
    }
    std::vector<float> a, bb;
    pair(w, h, 5, &a, &bb);
    for (int scales : {1, 4}) {
      std::vector<float> cpu(w * h), gpu(w * h);
      std::string err;
      msgms_rgb(a.data(), bb.data(), w, h, scales, 0.0026f, cpu.data(), nullptr);
      check::that(cuda::msgms(a.data(), bb.data(), w, h, scales, 0.0026f, gpu.data(), &err), "cuda msgms ran: " + err);
      const double d = check::max_abs_diff(cpu, gpu, cpu.size());
      std::printf("  MSGMS %dx%d scales=%d max abs diff %.3g\n", w, h, scales, d);
      check::that(d < 1e-5, "MSGMS GPU vs CPU");
    }
  }
}

void test_fused() {
  for (auto [w, h] : {std::pair<int, int>{256, 256}, {61, 45}}) {
    std::vector<float> a, b;
    pair(w, h, 9, &a, &b);
    for (int variant = 0; variant < 3; ++variant) {
      FusedParams p;
      if (variant == 1) p.border = Border::Zero;
      if (variant == 2) {
        p.scales = 2;
        p.topk_fraction = 0.01;
      }
      std::vector<float> cpu(w * h), gpu(w * h);
      const auto r = fused_score(a.data(), b.data(), w, h, p, cpu.data(), nullptr);
      double score = 0;
      long long bad = 0;
      std::string err;
      check::that(cuda::fused_score(a.data(), b.data(), w, h, p, gpu.data(), &score, &bad, &err), "cuda fused ran: " + err);
      const double d = check::max_abs_diff(cpu, gpu, cpu.size());
      std::printf("  fused %dx%d variant %d: map max abs diff %.3g, score %.6f vs %.6f\n", w, h, variant, d, r.score, score);
      check::that(d < 1e-5 && bad == -1, "fused map GPU vs CPU");
      check::near(score, r.score, 1e-5, "fused score GPU vs CPU");
    }
  }
}

// The core's CUDA-or-CPU choice in a CUDA build with a usable device: auto and cuda run the kernels (the shading
// transfer on the CPU first), cpu the core; all within 1e-5 of each other.
void test_dispatch() {
  const int w = 96, h = 80;
  std::vector<float> a, b;
  pair(w, h, 13, &a, &b);
  for (int shading : {0, 9}) {
    FusedParams p;
    p.shading_window = shading;
    std::vector<float> cpu(w * h), gpu(w * h);
    const auto c = fused_score_on(ScoreDevice::Cpu, a.data(), b.data(), w, h, p, cpu.data(), nullptr);
    check::that(c.error.empty() && std::string(c.device) == "cpu", "dispatch cpu runs on the CPU");
    for (ScoreDevice d : {ScoreDevice::Auto, ScoreDevice::Cuda}) {
      const auto g = fused_score_on(d, a.data(), b.data(), w, h, p, gpu.data(), nullptr);
      check::that(g.error.empty() && std::string(g.device) == "cuda", "dispatch auto/cuda runs on the GPU: " + g.error);
      check::that(check::max_abs_diff(cpu, gpu, cpu.size()) < 1e-5, "dispatch GPU map vs CPU, shading " + std::to_string(shading));
      check::near(g.result.score, c.result.score, 1e-5, "dispatch GPU score vs CPU");
    }
  }
  b[7] = NAN;
  std::vector<float> map(w * h);
  const auto bad = fused_score_on(ScoreDevice::Cuda, a.data(), b.data(), w, h, FusedParams{}, map.data(), nullptr);
  check::that(bad.error.empty() && bad.result.nonfinite_index == 7 && bad.result.nonfinite_in == 1, "dispatch: NaN in recon located");
}

}  // namespace

int main() {
  const auto& s = cuda::device_status();
  if (!s.available) {
    std::printf("cuda_test: SKIP no usable CUDA device (%s); the addon falls back to the CPU here\n", s.reason.c_str());
    return 0;
  }
  std::printf("cuda_test: device 0 = %s (%d device(s))\n", s.name.c_str(), s.count);
  return check::run_all("cuda", {{"Lab", test_lab}, {"box and MSGMS", test_box_msgms}, {"fused", test_fused}, {"dispatch", test_dispatch}});
}
