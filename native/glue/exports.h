// The functions the addon exports; each job lives in its own file.
#pragma once
#include <napi.h>

namespace mmaerec::glue {
Napi::Value EdgeMap(const Napi::CallbackInfo& info);     // edge_map_worker.cc
Napi::Value FusedScore(const Napi::CallbackInfo& info);  // fused_worker.cc
Napi::Value RgbToLab(const Napi::CallbackInfo& info);    // kernels_worker.cc
Napi::Value BoxMean(const Napi::CallbackInfo& info);     // kernels_worker.cc
Napi::Value Msgms(const Napi::CallbackInfo& info);       // kernels_worker.cc
Napi::Value Regions(const Napi::CallbackInfo& info);     // regions_worker.cc
Napi::Value SetThreads(const Napi::CallbackInfo& info);  // settings.cc
Napi::Value SetDevice(const Napi::CallbackInfo& info);   // settings.cc
Napi::Value Info(const Napi::CallbackInfo& info);        // settings.cc
}  // namespace mmaerec::glue
