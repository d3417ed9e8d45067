// Per-thread reusable buffers. The kernels run once per frame with the same sizes; fresh large vectors
// every call cost page faults and zeroing (a fifth of the fused score's time at 256x256). Each buffer
// lives in the calling thread (a libuv worker or the test's thread) and only grows. Contents are
// uninitialised: callers write before they read.
#pragma once
#include <cstddef>
#include <vector>

namespace mmaerec {

enum class Scratch : int {
  FusedColor,
  FusedMsgms,
  FusedBoxS,
  FusedBoxC,
  MsgmsGms,
  MsgmsPyramidA,
  MsgmsPyramidB,
  MsgmsWide,
  MsgmsRgbPlanes,
  ShadingDiff,
  ShadingTmp,
  ShadedRecon,
  Count,
};

inline float* scratch(Scratch slot, std::size_t n) {
  struct Buffer {
    float* data = nullptr;
    std::size_t size = 0;
    ~Buffer() { delete[] data; }
  };
  thread_local Buffer buffers[static_cast<int>(Scratch::Count)];
  Buffer& b = buffers[static_cast<int>(slot)];
  if (b.size < n) {
    delete[] b.data;
    b.data = new float[n];  // no value-initialisation: no zeroing pass
    b.size = n;
  }
  return b.data;
}

}  // namespace mmaerec
