// edgeMap(image: Uint8Array | Float32Array, width, height, channels) -> Promise<same type, width*height>
#include <cstdint>

#include "../core/edge_map.h"
#include "common.h"
#include "exports.h"

namespace mmaerec::glue {

namespace {
class EdgeMapWorker : public PromiseWorker {
 public:
  EdgeMapWorker(Napi::Env env, Napi::TypedArray image, Napi::TypedArray out, int w, int h, int channels)
      : PromiseWorker(env), is_u8_(image.TypedArrayType() == napi_uint8_array), w_(w), h_(h), channels_(channels),
        pool_(pool_for(static_cast<long long>(w) * h)) {
    in_ = static_cast<const std::uint8_t*>(image.ArrayBuffer().Data()) + image.ByteOffset();
    out_ = static_cast<std::uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset();
    Keep(image);
    Keep(out);
    out_ref_ = Napi::Persistent(static_cast<Napi::Value>(out));
  }

  void Execute() override {
    if (is_u8_) {
      edge_map_u8(in_, w_, h_, channels_, out_, pool_.get());
    } else {
      edge_map_f32(reinterpret_cast<const float*>(in_), w_, h_, channels_, reinterpret_cast<float*>(out_),
                   pool_.get());
    }
  }

  Napi::Value Result(Napi::Env) override { return out_ref_.Value(); }

 private:
  bool is_u8_;
  int w_, h_, channels_;
  std::shared_ptr<WorkerPool> pool_;
  const std::uint8_t* in_;
  std::uint8_t* out_;
  Napi::Reference<Napi::Value> out_ref_;
};
}  // namespace

Napi::Value EdgeMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 1, "width");
  const int h = positive_int(info, 2, "height");
  const int channels = positive_int(info, 3, "channels");
  if (channels != 1 && channels != 3) throw_range(env, "Expected channels to be 1 or 3");
  const long long n = static_cast<long long>(w) * h;
  const bool u8 = info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
  Napi::TypedArray image =
      typed_array(info, 0, "image", u8 ? napi_uint8_array : napi_float32_array, n * channels);
  Napi::TypedArray out = u8 ? static_cast<Napi::TypedArray>(Napi::Uint8Array::New(env, n))
                            : static_cast<Napi::TypedArray>(Napi::Float32Array::New(env, n));
  auto* worker = new EdgeMapWorker(env, image, out, w, h, channels);
  return worker->Queue();
}

}  // namespace mmaerec::glue
