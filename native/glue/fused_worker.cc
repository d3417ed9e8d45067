// fusedScore(input, recon: Float32Array (H*W*3), width, height, params) -> Promise<{ map, score, device }>
// params: { scales, c, mu, structureWindow, colorWindow, border: 'valid' | 'zero', shadingWindow, topkFraction },
// validated once in TypeScript (src/score/fused.ts, FusedScorer, when it is constructed). Here only what would
// make the core read or write out of bounds is checked (array types and lengths, scales against the image
// side, windows of at least 1); the CUDA-or-CPU choice is the core's (score_device.h).
#include <algorithm>
#include <string>

#include "../core/fused.h"
#include "../core/msgms.h"
#include "../core/score_device.h"
#include "common.h"
#include "exports.h"

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
    const DeviceScore r = fused_score_on(mode_, in_, rc_, w_, h_, p_, map_, pool_.get());
    if (!r.error.empty()) return SetError(r.error);
    score_ = r.result.score;
    device_ = r.device;
    if (r.result.nonfinite_index >= 0) {
      const long long i = r.result.nonfinite_index;
      SetRangeError(std::string(r.result.nonfinite_in == 0 ? "input" : "recon") + " has a non-finite value at element " +
                    std::to_string(i) + " (pixel " + std::to_string(i / 3) +
                    "): pass finite RGB values (a NaN reconstruction means the inference back end failed)");
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("map", map_ref_.Value());
    out.Set("score", score_);
    out.Set("device", device_);
    return out;
  }

 private:
  int w_, h_;
  FusedParams p_;
  std::shared_ptr<WorkerPool> pool_;
  DeviceMode mode_;
  const float* in_;
  const float* rc_;
  float* map_;
  Napi::Reference<Napi::Value> map_ref_;
  double score_ = 0;
  std::string device_;
};

int int_option(Napi::Object o, const char* name, int fallback) {
  return static_cast<int>(number_option(o, name, fallback));
}

// A box window below 1 would size the core's row buffers below the row (an out-of-bounds read); that is the
// only window check here (oddness and the upper bound are the schema's, in TypeScript).
int window_option(Napi::Env env, Napi::Object o, const char* name, int fallback, bool zero_is_off) {
  const double v = number_option(o, name, fallback);
  if (zero_is_off && v == 0) return 0;
  if (!(v >= 1 && v <= 1 << 20)) throw_range(env, std::string("Expected ") + name + " in 1.." + std::to_string(1 << 20));
  return static_cast<int>(v);
}

}  // namespace

FusedParams fused_params(Napi::Env env, Napi::Value options, int w, int h) {
  Napi::Object o = options.IsObject() ? options.As<Napi::Object>() : Napi::Object::New(env);
  FusedParams p;
  p.scales = int_option(o, "scales", p.scales);
  // The one range check kept: too many scales for the image would pool a side to 0 and read past the pyramid.
  if (p.scales < 1 || p.scales > 16 || std::min(w, h) < msgms_min_side(p.scales)) {
    throw_range(env, "image too small for " + std::to_string(p.scales) + " MSGMS scales: each side needs at least " +
                         std::to_string(msgms_min_side(std::max(1, std::min(p.scales, 16)))) + " pixels");
  }
  p.c = number_option(o, "c", p.c);
  p.mu = number_option(o, "mu", p.mu);
  p.structure_window = window_option(env, o, "structureWindow", p.structure_window, false);
  p.color_window = window_option(env, o, "colorWindow", p.color_window, false);
  if (o.Has("border")) p.border = o.Get("border").ToString().Utf8Value() == "zero" ? Border::Zero : Border::Valid;
  p.shading_window = window_option(env, o, "shadingWindow", 0, true);
  p.topk_fraction = number_option(o, "topkFraction", 0.0);
  return p;
}

Napi::Value FusedScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 2, "width");
  const int h = positive_int(info, 3, "height");
  const long long n = static_cast<long long>(w) * h;
  Napi::TypedArray input = typed_array(info, 0, "input", napi_float32_array, 3 * n);
  Napi::TypedArray recon = typed_array(info, 1, "recon", napi_float32_array, 3 * n);
  const FusedParams p = fused_params(env, info[4], w, h);
  Napi::Float32Array map = Napi::Float32Array::New(env, static_cast<size_t>(n));
  auto* worker = new FusedWorker(env, input, recon, map, w, h, p);
  return worker->Queue();
}

}  // namespace mmaerec::glue
