// regions(map: Float32Array (H*W), width, height, threshold) -> Promise<MapRegion[]>
#include <vector>

#include "../core/regions.h"
#include "common.h"
#include "exports.h"

namespace mmaerec::glue {

namespace {
class RegionsWorker : public PromiseWorker {
 public:
  RegionsWorker(Napi::Env env, Napi::Float32Array map, int w, int h, double threshold)
      : PromiseWorker(env), map_(map.Data()), w_(w), h_(h), threshold_(threshold) {
    Keep(map);
  }
  void Execute() override { regions_ = find_regions(map_, w_, h_, threshold_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, regions_.size());
    for (size_t i = 0; i < regions_.size(); ++i) {
      const MapRegion& r = regions_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("x", r.x);
      o.Set("y", r.y);
      o.Set("width", r.width);
      o.Set("height", r.height);
      o.Set("area", static_cast<double>(r.area));
      o.Set("maxScore", r.max_score);
      o.Set("meanScore", r.mean_score);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

 private:
  const float* map_;
  int w_, h_;
  double threshold_;
  std::vector<MapRegion> regions_;
};
}  // namespace

Napi::Value Regions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = positive_int(info, 1, "width");
  const int h = positive_int(info, 2, "height");
  Napi::TypedArray map = typed_array(info, 0, "map", napi_float32_array, static_cast<long long>(w) * h);
  if (!info[3].IsNumber()) throw_type(env, "Expected a number for threshold");
  auto* worker = new RegionsWorker(env, map.As<Napi::Float32Array>(), w, h, info[3].As<Napi::Number>().DoubleValue());
  return worker->Queue();
}

}  // namespace mmaerec::glue
