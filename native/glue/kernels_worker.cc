// The single kernels, exported for parity tests and for callers that need one stage:
//   rgbToLab(rgb: Float32Array (n*3)) -> Promise<Float32Array (n*3: L, a, b)>
//   boxMean(plane: Float32Array, width, height, k, border: 'valid' | 'zero') -> Promise<Float32Array>
//   msgms(a, b: Float32Array (H*W*3), width, height, scales, c) -> Promise<Float32Array (H*W)>
#include <cmath>
#include <functional>
#include <string>

#include "../core/box_filter.h"
#include "../core/lab.h"
#include "../core/msgms.h"
#include "common.h"
#include "exports.h"

namespace mmaerec::glue {

namespace {

// Runs job(pool) off the JS thread and resolves with the output array allocated up front.
class JobWorker : public PromiseWorker {
 public:
  JobWorker(Napi::Env env, Napi::Value out, std::function<void(WorkerPool*)> job)
      : PromiseWorker(env), job_(std::move(job)), pool_(shared_pool()) {
    out_ref_ = Napi::Persistent(out);
  }
  void Execute() override { job_(pool_.get()); }
  Napi::Value Result(Napi::Env) override { return out_ref_.Value(); }

 private:
  std::function<void(WorkerPool*)> job_;
  std::shared_ptr<WorkerPool> pool_;
  Napi::Reference<Napi::Value> out_ref_;
};

const float* f32(Napi::TypedArray a) { return a.As<Napi::Float32Array>().Data(); }

}  // namespace

Napi::Value RgbToLab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray rgb = typed_array(info, 0, "rgb", napi_float32_array, -1);
  if (rgb.ElementLength() % 3 != 0) throw_range(env, "Expected rgb to hold whole RGB pixels (a multiple of 3)");
  const size_t n = rgb.ElementLength() / 3;
  Napi::Float32Array out = Napi::Float32Array::New(env, 3 * n);
  const float* src = f32(rgb);
  float* dst = out.Data();
  auto* worker = new JobWorker(env, out, [=](WorkerPool* pool) { rgb_to_lab_f32(src, n, dst, pool); });
  worker->Keep(rgb);
  return worker->Queue();
}

Napi::Value BoxMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 1, "width");
  const int h = positive_int(info, 2, "height");
  const int k = positive_int(info, 3, "k");
  if (k % 2 == 0) throw_range(env, "Expected k to be odd");
  Napi::TypedArray plane = typed_array(info, 0, "plane", napi_float32_array, static_cast<long long>(w) * h);
  const std::string b = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "valid";
  if (b != "valid" && b != "zero") throw_range(env, "Expected border 'valid' or 'zero'");
  const Border border = b == "valid" ? Border::Valid : Border::Zero;
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(w) * h);
  const float* src = f32(plane);
  float* dst = out.Data();
  auto* worker = new JobWorker(env, out, [=](WorkerPool* pool) { box_mean(src, w, h, k, border, dst, pool); });
  worker->Keep(plane);
  return worker->Queue();
}

Napi::Value Msgms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 2, "width");
  const int h = positive_int(info, 3, "height");
  const int scales = positive_int(info, 4, "scales");
  if (scales > 8) throw_range(env, "Expected scales in 1..8");
  if (std::min(w, h) < msgms_min_side(scales)) throw_range(env, "image too small for the MSGMS scales");
  const long long n = static_cast<long long>(w) * h;
  Napi::TypedArray a = typed_array(info, 0, "a", napi_float32_array, 3 * n);
  Napi::TypedArray b = typed_array(info, 1, "b", napi_float32_array, 3 * n);
  if (!info[5].IsNumber()) throw_type(env, "Expected a number for c");
  const float c = info[5].As<Napi::Number>().FloatValue();
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(n));
  const float *pa = f32(a), *pb = f32(b);
  float* dst = out.Data();
  auto* worker = new JobWorker(env, out, [=](WorkerPool* pool) { msgms_rgb(pa, pb, w, h, scales, c, dst, pool); });
  worker->Keep(a);
  worker->Keep(b);
  return worker->Queue();
}

}  // namespace mmaerec::glue
