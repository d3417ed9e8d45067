// CUDA versions of the scoring kernels (same numerics as native/core, checked against it by
// native/test/cuda_test.cc). Two entries into one fused score, both through a DeviceScorer whose device and
// pinned buffers are allocated once (grown when the size grows) and reused by every call:
//  - host pointers, interleaved RGB (fused_score): uploads, runs, downloads the map;
//  - device pointers, planar RGB as TensorRT leaves its NCHW tensors (DeviceScorer::score_planar), queued on
//    the caller's stream (the engine's): only the map comes back, the reconstruction stays on the GPU.
// Built into the addon only when nvcc was found; the static CUDA runtime lets the same binary load on a machine
// without a GPU or driver, where device_status() reports why and callers use the CPU.
#pragma once
#include <cstddef>
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

/**
 * Fused map and score on the GPU from host arrays (interleaved RGB, as fused_score in native/core), through this
 * thread's DeviceScorer. p.shading_window must be 0 (the caller transfers the shading first, score_device.cc).
 * *nonfinite: -1 none, i >= 0 element i of input, -2 - i element i of recon. False and *error on a CUDA failure.
 */
bool fused_score(const float* input, const float* recon, int width, int height, const FusedParams& p, float* map,
                 double* score, long long* nonfinite, std::string* error);

/** Opaque stream handle (cudaStream_t without the CUDA headers). */
using Stream = struct CUstream_st*;

/** The buffers of one GPU fused score, allocated once per size. One call at a time per DeviceScorer. */
class DeviceScorer {
 public:
  DeviceScorer() = default;
  ~DeviceScorer();
  DeviceScorer(const DeviceScorer&) = delete;
  DeviceScorer& operator=(const DeviceScorer&) = delete;

  /**
   * image, recon: device pointers to 3 planes of width*height floats each (R, G, B: NCHW with N = 1), read on
   * `stream` after the work already queued there (the engine's inference). Shading transfer (p.shading_window)
   * and the non-finite check run on the GPU; *nonfinite as fused_score's, in interleaved element indices (3 * pixel
   * + channel), so messages match the CPU path. map: host, width*height. Waits for the stream before it returns.
   */
  bool score_planar(const float* image, const float* recon, int width, int height, const FusedParams& p,
                    Stream stream, float* map, double* score, long long* nonfinite, std::string* error);

  /** The host entry's half: interleaved host arrays uploaded through the pinned staging buffers. */
  bool score_host(const float* input, const float* recon, int width, int height, const FusedParams& p, float* map,
                  double* score, std::string* error);

  /** Device bytes held now (tests: the second call of the same size allocates nothing). */
  std::size_t device_bytes() const { return bytes_; }

 private:
  bool reserve(std::size_t pixels, std::string* error);
  bool run(int width, int height, const FusedParams& p, Stream stream, float* map, double* score, std::string* error);
  void release();

  std::size_t capacity_ = 0, bytes_ = 0;
  float* upload_ = nullptr;   // 6n: interleaved input and recon (host entry)
  float* planes_ = nullptr;   // 6n: input R G B, recon R G B
  float* scratch_ = nullptr;  // 6n: pyramid ping-pong
  float* gms_ = nullptr;      // n
  float* ms_ = nullptr;       // n
  float* de2_ = nullptr;      // n
  float* bs_ = nullptr;       // n
  float* bc_ = nullptr;       // n (also the shading transfer's ping-pong)
  float* map_ = nullptr;      // n
  double* rows_ = nullptr;    // n
  unsigned long long* bad_ = nullptr;  // first non-finite planar index, or ~0
  float* pinned_ = nullptr;   // 6n host staging (host entry upload, map download)
  unsigned long long* pinned_bad_ = nullptr;
};

/** Single kernels, for tests: interleaved RGB -> interleaved Lab; MSGMS of two RGB images; box mean. */
bool rgb_to_lab(const float* rgb, int n, float* lab, std::string* error);
bool msgms(const float* a, const float* b, int width, int height, int scales, float c, float* out,
           std::string* error);
bool box_mean(const float* in, int width, int height, int k, Border border, float* out, std::string* error);

}  // namespace mmaerec::cuda
