// Where a fused score runs: the CUDA kernels (native/cuda) when the build has them and a device is usable, else
// this core on the CPU. The choice lives here, not in the N-API glue, so that native/test reaches it: core_test
// (built without CUDA) and cuda_test (with it) check every mode.
#pragma once
#include <string>

#include "fused.h"

namespace mmaerec {

enum class ScoreDevice {
  /** CUDA when built in and a device is usable, else the CPU. */
  Auto,
  Cpu,
  /** CUDA or an error (never the CPU). */
  Cuda,
};

struct DeviceScore {
  /** score and the non-finite report (fused.h); meaningful when error is empty. */
  FusedResult result;
  /** "cpu" or "cuda": where it ran. */
  const char* device = "cpu";
  /** Non-empty: nothing was scored, and this says why and how to fix it. */
  std::string error;
};

/** True when this build has the CUDA kernels and a device is usable (probed once). */
bool cuda_usable();

/** fused_score (fused.h) on `device`. Inputs as fused_score's; map is always a host array. */
DeviceScore fused_score_on(ScoreDevice device, const float* input, const float* recon, int width, int height,
                           const FusedParams& p, float* map, WorkerPool* pool);

}  // namespace mmaerec
