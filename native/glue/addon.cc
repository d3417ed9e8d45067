// Entry point: registers the exports, nothing else.
#include <napi.h>

#include "../core/build_switches.h"
#include "exports.h"
#if MMAEREC_WITH_TENSORRT
#include "tensorrt.h"  // only in builds that found TensorRT (binding.gyp, TensorRT block)
#endif

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace mmaerec::glue;
  exports.Set("edgeMap", Napi::Function::New(env, EdgeMap, "edgeMap"));
  exports.Set("fusedScore", Napi::Function::New(env, FusedScore, "fusedScore"));
  exports.Set("rgbToLab", Napi::Function::New(env, RgbToLab, "rgbToLab"));
  exports.Set("boxMean", Napi::Function::New(env, BoxMean, "boxMean"));
  exports.Set("msgms", Napi::Function::New(env, Msgms, "msgms"));
  exports.Set("regions", Napi::Function::New(env, Regions, "regions"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setDevice", Napi::Function::New(env, SetDevice, "setDevice"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
#if MMAEREC_WITH_TENSORRT
  mmaerec::trt::glue::InitTensorRT(env, exports);  // exports.tensorrt
#endif
  return exports;
}
}  // namespace

NODE_API_MODULE(mmaerec_native, Init)
