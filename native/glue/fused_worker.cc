// fusedScore(input, recon: Float32Array (H*W*3), width, height, params) -> Promise<{ map, score, device }>
// params: { scales, c, mu, structureWindow, colorWindow, border: 'valid' | 'zero', shadingWindow, topkFraction } (validated
// in TypeScript; re-checked here only for what would be unsafe).
#include <cmath>
#include <string>

#include "../core/fused.h"
#include "../core/msgms.h"
#include "common.h"
#include "exports.h"
#ifdef MMAEREC_WITH_CUDA
#include "../cuda/scoring.h"
#endif

namespace mmaerec::glue {

namespace {

class FusedWorker : public PromiseWorker {
 public:
  FusedWorker(Napi::Env env, Napi::TypedArray input, Napi::TypedArray recon, Napi::Float32Array map, int w, int h,
              const FusedParams& p)
      : PromiseWorker(env), w_(w), h_(h), p_(p), pool_(pool_for(static_cast<long long>(w) * h)), mode_(device_mode()) {
    in_ = input.As<Napi::Float32Array>().Data();
    rc_ = recon.As<Napi::Float32Array>().Data();
    map_ = map.Data();
    Keep(input);
    Keep(recon);
    map_ref_ = Napi::Persistent(static_cast<Napi::Value>(map));
  }

  void Execute() override {
#ifdef MMAEREC_WITH_CUDA
    if (mode_ != DeviceMode::Cpu && cuda::device_status().available) {
      std::string error;
      // The CUDA kernels have no shading transfer: the core's checked_recon does it here on the CPU (three
      // O(1)-per-pixel box passes, ~0.2 ms at 128x128 on one core), after the NaN check so that a NaN is
      // reported where the caller put it.
      const float* rc = rc_;
      FusedParams cuda_params = p_;
      if (p_.shading_window > 0) {
        FusedResult bad;
        if (!(rc = checked_recon(in_, rc_, w_, h_, p_, pool_.get(), &bad))) return report_nonfinite(bad);
        cuda_params.shading_window = 0;
      }
      if (cuda::fused_score(in_, rc, w_, h_, cuda_params, map_, &score_, &nonfinite_, &error)) {
        device_ = "cuda";
        return report_nonfinite();
      }
      if (mode_ == DeviceMode::Cuda) return SetError("CUDA fused score failed: " + error);
      // auto: fall through to the CPU.
    } else if (mode_ == DeviceMode::Cuda) {
      return SetError("device 'cuda' requested but no CUDA device is usable: " + cuda::device_status().reason);
    }
#else
    if (mode_ == DeviceMode::Cuda) {
      return SetError("device 'cuda' requested but this addon was built without CUDA: rebuild with nvcc on PATH");
    }
#endif
    const FusedResult r = fused_score(in_, rc_, w_, h_, p_, map_, pool_.get());
    score_ = r.score;
    device_ = "cpu";
    report_nonfinite(r);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("map", map_ref_.Value());
    out.Set("score", score_);
    out.Set("device", device_);
    return out;
  }

 private:
  // A core result's non-finite value, in nonfinite_'s encoding.
  void report_nonfinite(const FusedResult& r) {
    nonfinite_ = r.nonfinite_index >= 0 ? (r.nonfinite_in == 0 ? r.nonfinite_index : -2 - r.nonfinite_index) : -1;
    report_nonfinite();
  }

  // nonfinite_: -1 none; >= 0 index in input; <= -2: index -2 - i in recon.
  void report_nonfinite() {
    if (nonfinite_ == -1) return;
    const bool in_input = nonfinite_ >= 0;
    const long long i = in_input ? nonfinite_ : -2 - nonfinite_;
    SetRangeError(std::string(in_input ? "input" : "recon") + " has a non-finite value at element " +
                  std::to_string(i) + " (pixel " + std::to_string(i / 3) +
                  "): pass finite RGB values (a NaN reconstruction means the inference back end failed)");
  }

  int w_, h_;
  FusedParams p_;
  std::shared_ptr<WorkerPool> pool_;
  DeviceMode mode_;
  const float* in_;
  const float* rc_;
  float* map_;
  Napi::Reference<Napi::Value> map_ref_;
  double score_ = 0;
  long long nonfinite_ = -1;
  std::string device_;
};

int odd_window(Napi::Env env, double v, const char* name) {
  if (!(v >= 1 && v <= 1e6) || v != std::floor(v) || static_cast<long long>(v) % 2 == 0) {
    throw_range(env, std::string("Expected ") + name + " to be an odd positive integer");
  }
  return static_cast<int>(v);
}

}  // namespace

Napi::Value FusedScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 2, "width");
  const int h = positive_int(info, 3, "height");
  const long long n = static_cast<long long>(w) * h;
  Napi::TypedArray input = typed_array(info, 0, "input", napi_float32_array, 3 * n);
  Napi::TypedArray recon = typed_array(info, 1, "recon", napi_float32_array, 3 * n);
  Napi::Object o = info[4].IsObject() ? info[4].As<Napi::Object>() : Napi::Object::New(env);
  FusedParams p;
  const double scales = number_option(o, "scales", p.scales);
  if (!(scales >= 1 && scales <= 8) || scales != std::floor(scales)) throw_range(env, "Expected scales in 1..8");
  p.scales = static_cast<int>(scales);
  if (std::min(w, h) < msgms_min_side(p.scales)) {
    throw_range(env, "image too small for " + std::to_string(p.scales) + " MSGMS scales: each side needs at least " +
                         std::to_string(msgms_min_side(p.scales)) + " pixels");
  }
  p.c = number_option(o, "c", p.c);
  p.mu = number_option(o, "mu", p.mu);
  p.structure_window = odd_window(env, number_option(o, "structureWindow", p.structure_window), "structureWindow");
  p.color_window = odd_window(env, number_option(o, "colorWindow", p.color_window), "colorWindow");
  if (o.Has("border")) {
    const std::string b = o.Get("border").ToString().Utf8Value();
    if (b != "valid" && b != "zero") throw_range(env, "Expected border 'valid' or 'zero'");
    p.border = b == "valid" ? Border::Valid : Border::Zero;
  }
  const double shading = number_option(o, "shadingWindow", 0.0);
  if (shading != 0.0) p.shading_window = odd_window(env, shading, "shadingWindow (0 = off)");
  p.topk_fraction = number_option(o, "topkFraction", 0.0);
  if (!(p.topk_fraction >= 0 && p.topk_fraction <= 1)) throw_range(env, "Expected topkFraction in [0, 1]");
  Napi::Float32Array map = Napi::Float32Array::New(env, static_cast<size_t>(n));
  auto* worker = new FusedWorker(env, input, recon, map, w, h, p);
  return worker->Queue();
}

}  // namespace mmaerec::glue
