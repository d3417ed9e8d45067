#include "score_device.h"

#include "build_switches.h"
#if MMAEREC_WITH_CUDA
#include "../cuda/scoring.h"
#endif

namespace mmaerec {

#if MMAEREC_WITH_CUDA

bool cuda_usable() { return cuda::device_status().available; }

namespace {
// The CUDA kernels have no shading transfer: checked_recon does it on the CPU (three O(1)-per-pixel box passes,
// ~0.2 ms at 128x128 on one core), after the NaN check, so that a NaN is reported where the caller put it.
bool score_cuda(const float* input, const float* recon, int w, int h, const FusedParams& p, float* map,
                WorkerPool* pool, DeviceScore* out) {
  const float* rc = recon;
  FusedParams cuda_params = p;
  if (p.shading_window > 0) {
    if (!(rc = checked_recon(input, recon, w, h, p, pool, &out->result))) {
      out->device = "cuda";
      return true;
    }
    cuda_params.shading_window = 0;
  }
  long long nonfinite = -1;
  if (!cuda::fused_score(input, rc, w, h, cuda_params, map, &out->result.score, &nonfinite, &out->error)) return false;
  out->result.nonfinite_index = nonfinite >= 0 ? nonfinite : (nonfinite == -1 ? -1 : -2 - nonfinite);
  out->result.nonfinite_in = nonfinite <= -2 ? 1 : 0;
  out->device = "cuda";
  return true;
}
}  // namespace

DeviceScore fused_score_on(ScoreDevice device, const float* input, const float* recon, int w, int h,
                           const FusedParams& p, float* map, WorkerPool* pool) {
  DeviceScore out;
  if (device != ScoreDevice::Cpu) {
    if (cuda_usable()) {
      if (score_cuda(input, recon, w, h, p, map, pool, &out)) return out;
      if (device == ScoreDevice::Cuda) {
        out.error = "CUDA fused score failed: " + out.error;
        return out;
      }
      out.error.clear();  // auto: the CPU below
    } else if (device == ScoreDevice::Cuda) {
      out.error = "device 'cuda' requested but no CUDA device is usable: " + cuda::device_status().reason;
      return out;
    }
  }
  out.result = fused_score(input, recon, w, h, p, map, pool);
  return out;
}

#else

bool cuda_usable() { return false; }

DeviceScore fused_score_on(ScoreDevice device, const float* input, const float* recon, int w, int h,
                           const FusedParams& p, float* map, WorkerPool* pool) {
  DeviceScore out;
  if (device == ScoreDevice::Cuda) {
    out.error = "device 'cuda' requested but this addon was built without CUDA: rebuild with nvcc on PATH";
    return out;
  }
  out.result = fused_score(input, recon, w, h, p, map, pool);
  return out;
}

#endif

}  // namespace mmaerec
