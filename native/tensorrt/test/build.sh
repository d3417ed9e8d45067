#!/usr/bin/env bash
# Builds the Node-free C++ test of the TensorRT back end (native/tensorrt/test/tensorrt_test.cc).
#   native/tensorrt/test/build.sh [out-binary]        (default build/tensorrt-test/tensorrt_test)
# With TensorRT found (TENSORRT_ROOT, or the JetPack / x86 package paths) and CUDA it compiles the engine tests
# too; otherwise it builds the TensorRT-free part and the binary says "SKIP: ... built without TensorRT".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/.."
out="${1:-build/tensorrt-test/tensorrt_test}"
mkdir -p "$(dirname "$out")"
CXX="${CXX:-g++}"

trt_inc=""; trt_lib=""
for candidate in "${TENSORRT_ROOT:-}" /usr/include/aarch64-linux-gnu /usr/include/x86_64-linux-gnu /usr/local/tensorrt /usr; do
  [ -n "$candidate" ] || continue
  for inc in "$candidate/include" "$candidate"; do
    if [ -f "$inc/NvInfer.h" ] && [ -f "$inc/NvOnnxParser.h" ]; then trt_inc="$inc"; break 2; fi
  done
done
if [ -n "$trt_inc" ]; then
  case "$trt_inc" in
    /usr/include/aarch64-linux-gnu) trt_lib=/usr/lib/aarch64-linux-gnu ;;
    /usr/include/x86_64-linux-gnu) trt_lib=/usr/lib/x86_64-linux-gnu ;;
    *) trt_lib="$(dirname "$trt_inc")/lib" ;;
  esac
fi
cuda="${CUDA_HOME:-/usr/local/cuda}"

if [ -n "$trt_inc" ] && [ -f "$cuda/include/cuda_runtime_api.h" ]; then
  echo "tensorrt test: building WITH TensorRT ($trt_inc, libs $trt_lib, CUDA $cuda)"
  "$CXX" -std=c++17 -O1 -Wall -Wextra -DMMAEREC_WITH_TENSORRT=1 -DMMAEREC_WITH_CUDA=0 -Werror=undef -isystem "$trt_inc" -isystem "$cuda/include" \
    "$here/tensorrt_test.cc" "$src"/batch_range.cc "$src"/calibration_batches.cc "$src"/device_info.cc "$src"/engine_io.cc \
    "$src"/engine_builder.cc "$src"/engine_runner.cc "$src"/int8_calibrator.cc \
    -L"$trt_lib" -L"$cuda/lib64" -Wl,-rpath,"$trt_lib" -lnvinfer -lnvonnxparser -lcudart -o "$out"
else
  echo "tensorrt test: TensorRT not found (TENSORRT_ROOT unset, no NvInfer.h in the JetPack/x86 paths): building the TensorRT-free part only"
  "$CXX" -std=c++17 -O1 -Wall -Wextra -DMMAEREC_WITH_TENSORRT=0 -DMMAEREC_WITH_CUDA=0 -Werror=undef "$here/tensorrt_test.cc" "$src"/batch_range.cc "$src"/calibration_batches.cc -o "$out"
fi
echo "tensorrt test: built $out"
