// Device probing. With the static runtime this works (and fails cleanly) with no driver installed:
// cudaGetDeviceCount then returns an error such as cudaErrorInsufficientDriver (35).
#include <cuda_runtime.h>

#include <mutex>

#include "scoring.h"

namespace mmaerec::cuda {

const DeviceStatus& device_status() {
  static DeviceStatus status;
  static std::once_flag once;
  std::call_once(once, [] {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      status.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(err) + " (" +
                      cudaGetErrorString(err) + ")";
      return;
    }
    if (count == 0) {
      status.reason = "no CUDA device";
      return;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) status.name = prop.name;
    status.count = count;
    status.available = true;
  });
  return status;
}

}  // namespace mmaerec::cuda
