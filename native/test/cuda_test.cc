// CUDA kernels against the CPU core (which core_test checks against brute force): every kernel within
// 1e-5 max abs. Exits 0 with a SKIP line when no CUDA device is usable (no GPU, no driver).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
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

// The device-pointer entry, as the TensorRT back end calls it: planar input and reconstruction already on the
// GPU, the work queued on the caller's stream, buffers allocated on the first call and reused after.
void test_planar_entry() {
  const int w = 128, h = 96;
  const size_t n = static_cast<size_t>(w) * h;
  std::vector<float> a, b;
  pair(w, h, 17, &a, &b);
  std::vector<float> pa(3 * n), pb(3 * n);
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) {
      pa[c * n + i] = a[3 * i + c];
      pb[c * n + i] = b[3 * i + c];
    }
  float *d_a = nullptr, *d_b = nullptr;
  cudaStream_t stream = nullptr;
  check::that(cudaMalloc(&d_a, 3 * n * sizeof(float)) == cudaSuccess && cudaMalloc(&d_b, 3 * n * sizeof(float)) == cudaSuccess &&
                  cudaStreamCreate(&stream) == cudaSuccess,
              "test buffers");
  cudaMemcpy(d_a, pa.data(), 3 * n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(d_b, pb.data(), 3 * n * sizeof(float), cudaMemcpyHostToDevice);
  cuda::DeviceScorer scorer;
  size_t bytes = 0;
  for (int shading : {0, 9, 0}) {
    FusedParams p;
    p.shading_window = shading;
    std::vector<float> cpu(n), gpu(n);
    const auto r = fused_score(a.data(), b.data(), w, h, p, cpu.data(), nullptr);
    double score = 0;
    long long bad = 0;
    std::string err;
    check::that(scorer.score_planar(d_a, d_b, w, h, p, stream, gpu.data(), &score, &bad, &err), "planar entry ran: " + err);
    const double d = check::max_abs_diff(cpu, gpu, n);
    std::printf("  planar entry shading %d: map max abs diff %.3g, score %.6f vs %.6f\n", shading, d, score, r.score);
    check::that(d < 1e-5 && bad == -1, "planar entry map vs CPU");
    check::near(score, r.score, 1e-5, "planar entry score vs CPU");
    if (bytes == 0) bytes = scorer.device_bytes();
    check::that(scorer.device_bytes() == bytes, "planar entry: no new device buffers on the next call");
  }
  const float nan = NAN;
  cudaMemcpy(d_b + n + 10, &nan, sizeof(float), cudaMemcpyHostToDevice);  // G of pixel 10 in recon
  std::vector<float> map(n);
  double score = 0;
  long long bad = 0;
  std::string err;
  check::that(scorer.score_planar(d_a, d_b, w, h, FusedParams{}, stream, map.data(), &score, &bad, &err), "planar NaN run: " + err);
  check::that(bad == -2 - (3 * 10 + 1), "planar entry: NaN located as interleaved element 31 of recon");
  cudaFree(d_a);
  cudaFree(d_b);
  cudaStreamDestroy(stream);
}

// Median ms of fn over runs calls (after 5 warm-up calls).
template <typename Fn>
double median_ms(int runs, Fn fn) {
  for (int i = 0; i < 5; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Not a check: CPU (1 thread) vs the two CUDA entries at 256x256, printed for scripts/gpu-check.sh.
void print_timing() {
  const int w = 256, h = 256;
  const size_t n = static_cast<size_t>(w) * h;
  std::vector<float> a, b, map(n), pa(3 * n), pb(3 * n);
  pair(w, h, 23, &a, &b);
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c) pa[c * n + i] = a[3 * i + c], pb[c * n + i] = b[3 * i + c];
  FusedParams p;
  double score = 0;
  long long bad = 0;
  std::string err;
  const double cpu = median_ms(50, [&] { fused_score(a.data(), b.data(), w, h, p, map.data(), nullptr); });
  const double host = median_ms(50, [&] { cuda::fused_score(a.data(), b.data(), w, h, p, map.data(), &score, &bad, &err); });
  float *d_a = nullptr, *d_b = nullptr;
  cudaStream_t stream = nullptr;
  cudaMalloc(&d_a, 3 * n * sizeof(float));
  cudaMalloc(&d_b, 3 * n * sizeof(float));
  cudaStreamCreate(&stream);
  cudaMemcpy(d_a, pa.data(), 3 * n * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(d_b, pb.data(), 3 * n * sizeof(float), cudaMemcpyHostToDevice);
  cuda::DeviceScorer scorer;
  const double dev = median_ms(50, [&] { scorer.score_planar(d_a, d_b, w, h, p, stream, map.data(), &score, &bad, &err); });
  cudaFree(d_a);
  cudaFree(d_b);
  cudaStreamDestroy(stream);
  std::printf("cuda_test: timing 256x256 fused score (median of 50): CPU 1 thread %.3f ms, CUDA host entry %.3f ms "
              "(upload + kernels + map download), CUDA device entry %.3f ms (planar on the GPU, map download)\n",
              cpu, host, dev);
}

}  // namespace

int main() {
  const auto& s = cuda::device_status();
  if (!s.available) {
    std::printf("cuda_test: SKIP no usable CUDA device (%s); the addon falls back to the CPU here\n", s.reason.c_str());
    return 0;
  }
  std::printf("cuda_test: device 0 = %s (%d device(s))\n", s.name.c_str(), s.count);
  const int failed = check::run_all("cuda", {{"Lab", test_lab}, {"box and MSGMS", test_box_msgms}, {"fused", test_fused},
                                             {"dispatch", test_dispatch}, {"planar device entry", test_planar_entry}});
  if (failed == 0) print_timing();
  return failed;
}
