// CUDA versions of the scoring kernels (same numerics as native/core, checked against it by
// native/test/cuda_test.cc). Host-pointer API: each call uploads, runs and downloads, so callers need no
// CUDA types. Built into the addon only when nvcc was found; the static CUDA runtime lets the same binary
// load on a machine without a GPU or driver, where device_status() reports why and callers use the CPU.
#pragma once
#include <string>

#include "../core/box_filter.h"
#include "../core/fused.h"

namespace mmaerec::cuda {

struct DeviceStatus {
  bool available = false;
  int count = 0;
  std::string name;    // of device 0
  std::string reason;  // why not available
};

/** Probed once (cudaGetDeviceCount), then cached. */
const DeviceStatus& device_status();

/** Fused map and score on the GPU. Returns false and sets *error on any CUDA failure. */
bool fused_score(const float* input, const float* recon, int width, int height, const FusedParams& p, float* map,
                 double* score, long long* nonfinite, std::string* error);

/** Single kernels, for tests: interleaved RGB -> interleaved Lab; MSGMS of two RGB images; box mean. */
bool rgb_to_lab(const float* rgb, int n, float* lab, std::string* error);
bool msgms(const float* a, const float* b, int width, int height, int scales, float c, float* out,
           std::string* error);
bool box_mean(const float* in, int width, int height, int k, Border border, float* out, std::string* error);

}  // namespace mmaerec::cuda
