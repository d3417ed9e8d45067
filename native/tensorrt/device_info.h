// What the engine metadata records about the GPU, and what loading compares against.
#pragma once

#include <cstdint>
#include <string>

namespace mmaerec::trt {

struct DeviceInfo {
  int index = 0;
  std::string name;                // e.g. "Orin" on Jetson AGX Orin, "NVIDIA H100 80GB HBM3"
  int computeMajor = 0;            // an engine runs only on the compute capability it was built for
  int computeMinor = 0;
  unsigned long long totalMemoryBytes = 0;
  bool integrated = false;         // Jetson: GPU shares DRAM with the CPU
};

/// Properties of CUDA device `index`; throws a one-line error when there is no usable GPU.
DeviceInfo queryDevice(int index);

}  // namespace mmaerec::trt
