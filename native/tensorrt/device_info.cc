#include "device_info.h"

#include <cuda_runtime_api.h>

#include <stdexcept>

namespace mmaerec::trt {

DeviceInfo queryDevice(int index) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    throw std::runtime_error(std::string("no CUDA GPU is usable (") +
                             (status != cudaSuccess ? cudaGetErrorString(status) : "0 devices") +
                             "): TensorRT needs an NVIDIA GPU and its driver; use the onnxruntime back end");
  }
  if (index < 0 || index >= count) {
    throw std::runtime_error("CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(count) +
                             " found): pick a device index below " + std::to_string(count));
  }
  cudaDeviceProp props{};
  const cudaError_t propStatus = cudaGetDeviceProperties(&props, index);
  if (propStatus != cudaSuccess) {
    throw std::runtime_error(std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(propStatus) +
                             ": check the NVIDIA driver");
  }
  DeviceInfo info;
  info.index = index;
  info.name = props.name;
  info.computeMajor = props.major;
  info.computeMinor = props.minor;
  info.totalMemoryBytes = props.totalGlobalMem;
  info.integrated = props.integrated != 0;
  return info;
}

}  // namespace mmaerec::trt
