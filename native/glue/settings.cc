// setThreads(n), setDevice('auto' | 'cpu' | 'cuda'), info() -> { threads, cuda: { compiled, available, ... } }
#include <string>

#include "../core/build_switches.h"
#include "common.h"
#include "exports.h"
#if MMAEREC_WITH_CUDA
#include "../cuda/scoring.h"
#endif

namespace mmaerec::glue {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = positive_int(info, 0, "threads");
  if (n > 64) throw_range(info.Env(), "Expected threads in 1..64");
  set_threads(n);
  return info.Env().Undefined();
}

Napi::Value SetDevice(const Napi::CallbackInfo& info) {
  const std::string d = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (d == "auto") set_device_mode(DeviceMode::Auto);
  else if (d == "cpu") set_device_mode(DeviceMode::Cpu);
  else if (d == "cuda") set_device_mode(DeviceMode::Cuda);
  else throw_type(info.Env(), "Expected device 'auto', 'cpu' or 'cuda'");
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", shared_pool()->threads());
  const DeviceMode m = device_mode();
  out.Set("device", m == DeviceMode::Auto ? "auto" : (m == DeviceMode::Cpu ? "cpu" : "cuda"));
  Napi::Object cuda = Napi::Object::New(env);
#if MMAEREC_WITH_CUDA
  const auto& s = cuda::device_status();
  cuda.Set("compiled", true);
  cuda.Set("available", s.available);
  cuda.Set("deviceCount", s.count);
  cuda.Set("deviceName", s.name);
  cuda.Set("reason", s.reason);
#else
  cuda.Set("compiled", false);
  cuda.Set("available", false);
  cuda.Set("deviceCount", 0);
  cuda.Set("deviceName", "");
  cuda.Set("reason", "built without CUDA (nvcc was not found at build time)");
#endif
  out.Set("cuda", cuda);
  return out;
}

}  // namespace mmaerec::glue
