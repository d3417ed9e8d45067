// Tests of the C++ core (no Node): numerics against hand values and against brute.h, thread invariance,
// edge cases. Built and run by scripts/test-native.sh natively and, cross-compiled, under qemu-aarch64.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "../core/box_filter.h"
#include "../core/edge_map.h"
#include "../core/fast_math.h"
#include "../core/fused.h"
#include "../core/shading.h"
#include "../core/lab.h"
#include "../core/msgms.h"
#include "../core/parallel.h"
#include "../core/regions.h"
#include "../core/score_device.h"
#include "brute.h"
#include "check.h"

using namespace mmaerec;

namespace {

// A smooth image plus a localised change: closer to an input / reconstruction pair than white noise.
void image_pair(int w, int h, std::vector<float>* in, std::vector<float>* rc, unsigned long long seed) {
  check::Rng rng(seed);
  in->resize(3 * w * h);
  rc->resize(3 * w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const size_t i = 3 * (static_cast<size_t>(y) * w + x) + c;
        const float base = 0.5f + 0.3f * std::sin(0.2f * x + 0.1f * c) * std::cos(0.15f * y);
        (*in)[i] = base + 0.05f * rng.next();
        const bool defect = x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2;
        (*rc)[i] = defect ? 0.9f * rng.next() : base + 0.05f * rng.next();
      }
}

void test_fast_math() {
  double worst_log = 0, worst_exp = 0;
  for (int i = 0; i <= 200000; ++i) {
    const double x = 1e-3 + (2.0 - 1e-3) * i / 200000.0;
    worst_log = std::max(worst_log, std::fabs(fm::log_pos(x) - std::log(x)) / std::max(1e-300, std::fabs(std::log(x))));
    const double y = -20.0 + 21.0 * i / 200000.0;
    worst_exp = std::max(worst_exp, std::fabs(fm::exp_small(y) - std::exp(y)) / std::exp(y));
  }
  // Near x = 1 log is ~0, so judge it absolutely there too.
  check::that(worst_log < 1e-10, "log_pos relative error < 1e-10, got " + std::to_string(worst_log));
  check::that(worst_exp < 1e-10, "exp_small relative error < 1e-10, got " + std::to_string(worst_exp));
  check::near(fm::log_pos(1.0), 0.0, 1e-16, "log(1)");
  check::near(fm::log_pos(0.5), std::log(0.5), 1e-11, "log(0.5)");
  // The sRGB curve's power in single precision, over the range the curve uses it on.
  double worst_pow = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = 0.0892f + (1.0f - 0.0892f) * static_cast<float>(i) / 200000.0f;
    worst_pow = std::max(worst_pow, std::fabs(fmf::pow_2_4(x) / std::pow(static_cast<double>(x), 2.4) - 1.0));
  }
  check::that(worst_pow < 6e-7, "fmf::pow_2_4 relative error < 6e-7, got " + std::to_string(worst_pow));
}

void test_lab_reference_colours() {
  // Hand-computed with the closed form (Python, double): method.md §6, paper eqs. 8-12.
  struct Ref {
    float rgb[3];
    double lab[3];
  } refs[] = {
      {{1, 1, 1}, {100.0, 0.0, 0.0}},
      {{0, 0, 0}, {0.0, 0.0, 0.0}},
      {{1, 0, 0}, {53.2405879437, 80.0941668345, 67.2015369951}},
      {{0, 1, 0}, {87.7350994883, -86.1812575110, 83.1774770685}},
      {{0, 0, 1}, {32.2956725650, 79.1870018039, -107.8617472521}},
      {{0.5f, 0.5f, 0.5f}, {53.3889647411, 0.0, 0.0}},
      {{0.02f, 0.03f, 0.01f}, {1.8478358990, -1.3759893801, 1.6951632799}},
  };
  for (const auto& r : refs) {
    float out[3];
    rgb_to_lab_f32(r.rgb, 1, out, nullptr);
    for (int c = 0; c < 3; ++c) {
      check::near(out[c], r.lab[c], 1e-4,
                  "Lab of (" + std::to_string(r.rgb[0]) + "," + std::to_string(r.rgb[1]) + "," +
                      std::to_string(r.rgb[2]) + ") channel " + std::to_string(c));
    }
  }
  // Out-of-range reconstruction values are clamped to [0, 1].
  const float over[6] = {1.3f, 1.0f, 2.0f, -0.5f, 0.0f, -1.0f};
  float out[6];
  rgb_to_lab_f32(over, 2, out, nullptr);
  check::near(out[0], 100.0, 1e-4, "clamped white L");
  check::near(out[3], 0.0, 1e-4, "clamped black L");
}

void test_lab_vs_brute() {
  const int n = 20000;
  const auto rgb = check::random_image(3 * n, 7);
  std::vector<float> out(3 * n);
  WorkerPool pool(2);
  rgb_to_lab_f32(rgb.data(), n, out.data(), &pool);
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    double ref[3];
    brute::lab(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], ref);
    for (int c = 0; c < 3; ++c) worst = std::max(worst, std::fabs(out[3 * i + c] - ref[c]));
  }
  check::that(worst < 1e-5, "Lab vs pow/cbrt max abs < 1e-5, got " + std::to_string(worst));
}

void test_gray_and_edges() {
  check::that(gray_u8(255, 0, 0) == 76 && gray_u8(0, 255, 0) == 150 && gray_u8(0, 0, 255) == 29,
              "OpenCV uint8 gray of pure R, G, B is 76, 150, 29");
  check::that(gray_u8(255, 255, 255) == 255 && gray_u8(0, 0, 0) == 0, "gray of white/black");
  // A single bright pixel: the gradient is its value on its 3x3 neighbourhood, 0 elsewhere.
  std::vector<std::uint8_t> img(5 * 5, 0), out(25);
  img[2 * 5 + 2] = 200;
  edge_map_u8(img.data(), 5, 5, 1, out.data(), nullptr);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 5; ++x) {
      const bool inside = std::abs(x - 2) <= 1 && std::abs(y - 2) <= 1;
      check::that(out[y * 5 + x] == (inside ? 200 : 0), "edge of a dot at " + std::to_string(x) + "," + std::to_string(y));
    }
  // Outside pixels are ignored, not zero: a 2x1 image [10, 50] gives [40, 40] (zero padding would give 50s).
  const std::uint8_t pair[2] = {10, 50};
  std::uint8_t po[2];
  edge_map_u8(pair, 2, 1, 1, po, nullptr);
  check::that(po[0] == 40 && po[1] == 40, "edge ignores outside pixels");
  const std::uint8_t one[1] = {99};
  std::uint8_t oo[1] = {7};
  edge_map_u8(one, 1, 1, 1, oo, nullptr);
  check::that(oo[0] == 0, "1x1 image has no gradient");
  // RGB float: gray then gradient; equals the float gray computed by hand.
  const float rgb[6] = {1, 0, 0, 0, 0, 1};
  float fo[2];
  edge_map_f32(rgb, 2, 1, 3, fo, nullptr);
  check::near(fo[0], 0.299 - 0.114, 1e-6, "float RGB edge");
  // Threads give the same bytes.
  const auto noise = check::random_image(3 * 61 * 47, 3);
  std::vector<std::uint8_t> u8(noise.size());
  for (size_t i = 0; i < noise.size(); ++i) u8[i] = static_cast<std::uint8_t>(noise[i] * 255);
  std::vector<std::uint8_t> e1(61 * 47), e2(61 * 47);
  WorkerPool pool(2);
  edge_map_u8(u8.data(), 61, 47, 3, e1.data(), nullptr);
  edge_map_u8(u8.data(), 61, 47, 3, e2.data(), &pool);
  check::that(e1 == e2, "edge map identical with 1 and 2 threads");
}

void test_box() {
  const int w = 23, h = 17;
  const auto img = check::random_image(w * h, 11);
  brute::Img d(img.begin(), img.end());
  WorkerPool pool(2);
  for (int k : {1, 3, 5, 11, 21, 41}) {
    for (bool valid : {true, false}) {
      std::vector<float> out(w * h);
      box_mean(img.data(), w, h, k, valid ? Border::Valid : Border::Zero, out.data(), &pool);
      const auto ref = brute::box(d, w, h, k, valid);
      const double diff = check::max_abs_diff(out, ref, out.size());
      check::that(diff < 1e-6, "box k=" + std::to_string(k) + (valid ? " valid" : " zero") + " diff " + std::to_string(diff));
    }
  }
  // Valid borders keep a constant image constant; zero padding darkens the corner to (r+1)^2/k^2.
  std::vector<float> flat(w * h, 0.5f), out(w * h);
  box_mean(flat.data(), w, h, 5, Border::Valid, out.data(), nullptr);
  check::near(out[0], 0.5, 1e-7, "valid corner of a flat image");
  box_mean(flat.data(), w, h, 5, Border::Zero, out.data(), nullptr);
  check::near(out[0], 0.5 * 9 / 25, 1e-7, "zero-padded corner");
}

void test_msgms() {
  const int w = 37, h = 29;  // odd sizes: pooling floors, upsampling uses the exact in/out ratio
  std::vector<float> a, b;
  image_pair(w, h, &a, &b, 5);
  std::vector<brute::Img> pa(3), pb(3);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < w * h; ++i) {
      pa[c].push_back(a[3 * i + c]);
      pb[c].push_back(b[3 * i + c]);
    }
  WorkerPool pool(2);
  for (int scales : {1, 2, 4}) {
    std::vector<float> out(w * h);
    msgms_rgb(a.data(), b.data(), w, h, scales, 0.0026f, out.data(), &pool);
    const auto ref = brute::msgms(pa, pb, w, h, scales, 0.0026);
    const double diff = check::max_abs_diff(out, ref, out.size());
    check::that(diff < 1e-5, "msgms scales=" + std::to_string(scales) + " diff " + std::to_string(diff));
  }
  std::vector<float> same(w * h);
  msgms_rgb(a.data(), a.data(), w, h, 4, 0.0026f, same.data(), nullptr);
  double lo = 1;
  for (float v : same) lo = std::min(lo, static_cast<double>(v));
  check::near(lo, 1.0, 1e-6, "MSGMS of an image with itself is 1");
}

void test_fused() {
  const int w = 48, h = 40;
  std::vector<float> a, b;
  image_pair(w, h, &a, &b, 9);
  FusedParams p;
  p.scales = 3;
  // Brute-force map: (1 - box21(msgms)) + mu * box11(dE^2).
  std::vector<brute::Img> pa(3), pb(3);
  brute::Img de(w * h);
  for (int i = 0; i < w * h; ++i) {
    double la[3], lb[3];
    brute::lab(a[3 * i], a[3 * i + 1], a[3 * i + 2], la);
    brute::lab(b[3 * i], b[3 * i + 1], b[3 * i + 2], lb);
    de[i] = (la[0] - lb[0]) * (la[0] - lb[0]) + (la[1] - lb[1]) * (la[1] - lb[1]) + (la[2] - lb[2]) * (la[2] - lb[2]);
    for (int c = 0; c < 3; ++c) {
      pa[c].push_back(a[3 * i + c]);
      pb[c].push_back(b[3 * i + c]);
    }
  }
  for (bool valid : {true, false}) {
    p.border = valid ? Border::Valid : Border::Zero;
    const auto s = brute::box(brute::msgms(pa, pb, w, h, p.scales, p.c), w, h, 21, valid);
    const auto col = brute::box(de, w, h, 11, valid);
    brute::Img ref(w * h);
    double best = -1e300;
    for (int i = 0; i < w * h; ++i) best = std::max(best, ref[i] = (1 - s[i]) + p.mu * col[i]);
    std::vector<float> map1(w * h), map2(w * h);
    WorkerPool pool(2);
    const auto r1 = fused_score(a.data(), b.data(), w, h, p, map1.data(), nullptr);
    const auto r2 = fused_score(a.data(), b.data(), w, h, p, map2.data(), &pool);
    const std::string tag = valid ? " (valid)" : " (zero)";
    check::that(check::max_abs_diff(map1, ref, ref.size()) < 1e-5, "fused map vs brute" + tag);
    check::near(r1.score, best, 1e-5, "fused score = max" + tag);
    check::that(check::max_abs_diff(map1, map2, ref.size()) < 1e-6, "fused map 1 vs 2 threads" + tag);
    check::near(r2.score, r1.score, 1e-6, "fused score 1 vs 2 threads" + tag);
    check::that(r1.score > 0.1, "a defect raises the score" + tag);
  }
  // Identical images: the map is 0 everywhere (valid borders: no darkening).
  p.border = Border::Valid;
  std::vector<float> map(w * h);
  const auto same = fused_score(a.data(), a.data(), w, h, p, map.data(), nullptr);
  check::near(same.score, 0.0, 1e-6, "identical images score 0");
  // Top-k: mean of the ceil(f n) largest.
  const float vals[5] = {1, 5, 3, 4, 2};
  check::near(aggregate_score(vals, 5, 0.0), 5, 0, "aggregate max");
  check::near(aggregate_score(vals, 5, 0.4), 4.5, 1e-12, "aggregate top 40%");
  check::near(aggregate_score(vals, 5, 0.01), 5, 1e-12, "aggregate top-k keeps at least one");
  check::near(aggregate_score(vals, 5, 1.0), 3, 1e-12, "aggregate top 100% is the mean");
  // Non-finite input is reported, not scored.
  b[3 * 17 + 1] = NAN;
  const auto bad = fused_score(a.data(), b.data(), w, h, p, map.data(), nullptr);
  check::that(bad.nonfinite_index == 3 * 17 + 1 && bad.nonfinite_in == 1, "NaN in recon is located");
}

// shadingWindow: recon + box_k(box_k(box_k(input - recon))) against brute force; a broad brightness offset
// vanishes from the score while a small defect keeps its score; and it composes with fused_score.
void test_shading() {
  const int w = 48, h = 40, k = 9;
  std::vector<float> a, b;
  image_pair(w, h, &a, &b, 9);
  brute::Img ref(3 * w * h);
  for (int c = 0; c < 3; ++c) {
    brute::Img d(w * h);
    for (int i = 0; i < w * h; ++i) d[i] = static_cast<double>(a[3 * i + c]) - b[3 * i + c];
    d = brute::box(brute::box(brute::box(d, w, h, k, true), w, h, k, true), w, h, k, true);
    for (int i = 0; i < w * h; ++i) ref[3 * i + c] = b[3 * i + c] + d[i];
  }
  std::vector<float> out1(3 * w * h), out2(3 * w * h);
  WorkerPool pool(2);
  transfer_shading(a.data(), b.data(), w, h, k, out1.data(), nullptr);
  transfer_shading(a.data(), b.data(), w, h, k, out2.data(), &pool);
  check::that(check::max_abs_diff(out1, ref, ref.size()) < 1e-6, "shading transfer vs brute");
  check::that(check::max_abs_diff(out1, out2, ref.size()) == 0,
              "shading transfer 1 vs 2 threads");

  // A reconstruction that is the input plus a smooth ramp and a constant: the transfer takes it back to the
  // input almost exactly, so the fused score drops from clearly positive to ~0; a 3x3 dark spot (a defect
  // narrower than the window) survives.
  std::vector<float> lit(3 * w * h), spot(a);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) lit[3 * (y * w + x) + c] = a[3 * (y * w + x) + c] + 0.15f + 0.002f * x;
  for (int y = 18; y < 21; ++y)
    for (int x = 20; x < 23; ++x)
      for (int c = 0; c < 3; ++c) spot[3 * (y * w + x) + c] = 0.0f;
  FusedParams p;
  p.scales = 3;
  std::vector<float> map(w * h);
  const double plain = fused_score(a.data(), lit.data(), w, h, p, map.data(), nullptr).score;
  const double plain_spot = fused_score(spot.data(), a.data(), w, h, p, map.data(), nullptr).score;
  p.shading_window = 15;
  const double shaded = fused_score(a.data(), lit.data(), w, h, p, map.data(), nullptr).score;
  const double shaded_spot = fused_score(spot.data(), a.data(), w, h, p, map.data(), nullptr).score;
  check::that(plain > 0.05, "a lighting offset scores without the transfer");
  check::that(shaded < 0.1 * plain, "the transfer removes a lighting offset from the score");
  check::that(shaded_spot > 0.5 * plain_spot, "the transfer keeps a small defect's score");
  // checked_recon (what the CUDA path calls before its kernels): the transferred copy with a window, the
  // caller's recon without one.
  std::vector<float> via(3 * w * h);
  FusedResult ok;
  const float* shaded_recon = checked_recon(a.data(), b.data(), w, h, p, nullptr, &ok);
  check::that(shaded_recon != nullptr && ok.nonfinite_index == -1, "checked_recon: finite inputs pass");
  transfer_shading(a.data(), b.data(), w, h, p.shading_window, via.data(), nullptr);
  check::that(shaded_recon && check::max_abs_diff(via, std::vector<float>(shaded_recon, shaded_recon + 3 * w * h), via.size()) == 0,
              "checked_recon: the shading transfer with a window");
  FusedParams off = p;
  off.shading_window = 0;
  check::that(checked_recon(a.data(), b.data(), w, h, off, nullptr, &ok) == b.data(), "checked_recon: recon itself without");
  // NaN is still located in the caller's recon, before the transfer spreads it.
  lit[3 * 5 + 2] = NAN;
  FusedResult nan_result;
  check::that(checked_recon(a.data(), lit.data(), w, h, p, nullptr, &nan_result) == nullptr &&
                  nan_result.nonfinite_index == 3 * 5 + 2 && nan_result.nonfinite_in == 1,
              "checked_recon: NaN located, nothing to score");
  const auto bad = fused_score(a.data(), lit.data(), w, h, p, map.data(), nullptr);
  check::that(bad.nonfinite_index == 3 * 5 + 2 && bad.nonfinite_in == 1, "NaN in recon located with shading");
}

void test_regions() {
  // Two components; the second is joined only diagonally (8-connectivity).
  const int w = 6, h = 5;
  const float m[w * h] = {
      0.9f, 0.8f, 0, 0, 0, 0,  //
      0.7f, 0,    0, 0, 0, 0,  //
      0,    0,    0, 0, 0, 0.6f,  //
      0,    0,    0, 0, 0.5f, 0,  //
      0,    0,    0, 0.5f, 0, 0,
  };
  const auto r = find_regions(m, w, h, 0.5);
  check::that(r.size() == 2, "two regions");
  if (r.size() == 2) {
    check::that(r[0].x == 0 && r[0].y == 0 && r[0].width == 2 && r[0].height == 2 && r[0].area == 3, "region 0 box");
    check::near(r[0].max_score, 0.9f, 0, "region 0 max");
    check::near(r[0].mean_score, (0.9 + 0.8 + 0.7) / 3, 1e-6, "region 0 mean");
    check::that(r[1].x == 3 && r[1].y == 2 && r[1].width == 3 && r[1].height == 3 && r[1].area == 3, "region 1 box");
  }
  check::that(find_regions(m, w, h, 0.95).empty(), "nothing above 0.95");
  const float nan_map[2] = {NAN, 1.0f};
  check::that(find_regions(nan_map, 2, 1, 0.0).size() == 1, "NaN pixels belong to no region");
}

// The CUDA-or-CPU choice, in a build without CUDA (core_test's): cpu and auto score on the CPU, exactly as
// fused_score does; cuda is refused with the fix. (cuda_test checks the same calls in a CUDA build.)
void test_device_dispatch() {
  const int w = 40, h = 32;
  std::vector<float> a, b;
  image_pair(w, h, &a, &b, 21);
  FusedParams p;
  p.scales = 3;
  std::vector<float> ref(w * h), map(w * h);
  const auto direct = fused_score(a.data(), b.data(), w, h, p, ref.data(), nullptr);
  for (ScoreDevice d : {ScoreDevice::Cpu, ScoreDevice::Auto}) {
    const auto r = fused_score_on(d, a.data(), b.data(), w, h, p, map.data(), nullptr);
    check::that(r.error.empty() && std::string(r.device) == "cpu", "cpu/auto without CUDA run on the CPU");
    check::that(r.result.score == direct.score && check::max_abs_diff(map, ref, ref.size()) == 0, "same map and score as fused_score");
  }
  check::that(!cuda_usable(), "no CUDA in this build");
  const auto refused = fused_score_on(ScoreDevice::Cuda, a.data(), b.data(), w, h, p, map.data(), nullptr);
  check::that(refused.error == "device 'cuda' requested but this addon was built without CUDA: rebuild with nvcc on PATH",
              "cuda without CUDA: refused with the fix, got '" + refused.error + "'");
  b[5] = NAN;
  const auto nan = fused_score_on(ScoreDevice::Auto, a.data(), b.data(), w, h, p, map.data(), nullptr);
  check::that(nan.error.empty() && nan.result.nonfinite_index == 5 && nan.result.nonfinite_in == 1, "NaN located through the dispatch");
}

// A worker that cannot keep up (here: its chunks sleep 2 ms, as a worker waiting for a busy core would) makes
// two misses in a row; the pool then runs the next 8 jobs inline on the caller (one call over the whole range),
// then tries the workers again. Holds whatever the scheduler does: a chunk the worker never started is a miss too.
void test_pool_backoff() {
  WorkerPool pool(2);
  const auto caller = std::this_thread::get_id();
  auto slow_worker = [&](int, int) {
    if (std::this_thread::get_id() != caller) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  };
  pool.parallel_for(64, slow_worker);
  pool.parallel_for(64, slow_worker);
  check::that(pool.solo_jobs() == 0, "no inline job before the second miss");
  for (int job = 0; job < 8; ++job) {
    int calls = 0;
    bool whole = false, on_caller = true;
    pool.parallel_for(64, [&](int b, int e) {
      ++calls;
      whole = b == 0 && e == 64;
      on_caller = on_caller && std::this_thread::get_id() == caller;
    });
    check::that(calls == 1 && whole && on_caller, "after two misses: job " + std::to_string(job) + " inline on the caller");
  }
  check::that(pool.solo_jobs() == 8, "8 inline jobs after the second miss");
  std::atomic<int> covered{0};
  pool.parallel_for(64, [&](int b, int e) { covered.fetch_add(e - b); });
  check::that(covered.load() == 64 && pool.solo_jobs() == 8, "the 9th job probes the workers again (not inline)");
}

// The pool's spin-then-sleep handoff: every index covered exactly once over many back-to-back jobs (the
// spinning path), after idle gaps longer than the spin (the sleeping path), with two callers at once (one
// runs inline), and for pools wider than the job.
void test_pool() {
  for (int threads : {2, 3, 4}) {
    WorkerPool pool(threads);
    bool ok = true;
    for (int round = 0; round < 2000; ++round) {
      const int n = 1 + round % 37;
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](int b, int e) {
        for (int i = b; i < e; ++i) hits[i].fetch_add(1);
      });
      for (auto& h : hits) ok = ok && h.load() == 1;
      if (round % 500 == 0) std::this_thread::sleep_for(std::chrono::microseconds(3 * WorkerPool::kSpinMicros));
    }
    check::that(ok, "pool of " + std::to_string(threads) + ": each index exactly once");
  }
  WorkerPool pool(2);
  std::atomic<long> total{0};
  auto caller = [&] {
    for (int round = 0; round < 500; ++round) {
      pool.parallel_for(64, [&](int b, int e) {
        for (int i = b; i < e; ++i) total.fetch_add(i);
      });
    }
  };
  std::thread other(caller);
  caller();
  other.join();
  check::that(total.load() == 2L * 500 * (63 * 64 / 2), "two concurrent callers: every job complete");
  test_pool_backoff();
}

}  // namespace

int main() {
  return check::run_all("core", {
                                     {"fast exp/log vs libm", test_fast_math},
                                     {"Lab reference colours", test_lab_reference_colours},
                                     {"Lab vs pow/cbrt", test_lab_vs_brute},
                                     {"gray and edge map", test_gray_and_edges},
                                     {"box mean", test_box},
                                     {"MSGMS", test_msgms},
                                     {"fused map and score", test_fused},
                                     {"shading transfer", test_shading},
                                     {"regions", test_regions},
                                     {"worker pool handoff", test_pool},
                                     {"CUDA-or-CPU dispatch", test_device_dispatch},
                                 });
}
