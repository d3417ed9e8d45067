#!/usr/bin/env bash
# The native checks that do not need Node: the C++ core tests built and run natively, the CUDA sources
# compiled for Jetson Orin (sm_87) and H100 (sm_90), the CUDA tests where a GPU is present, and the core
# tests cross-compiled for aarch64 and run under qemu. A missing tool is a loud SKIP line, never a silent pass;
# MMAEREC_REQUIRE_NATIVE_TOOLS=1 turns each SKIP into a failure (CI machines that must have them all).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/native-test
mkdir -p "$out"
CXX=${CXX:-g++}
flags=(-std=c++17 -O3 -fno-math-errno -fno-trapping-math -Wall -Wextra -Werror=undef -pthread)
# The optional parts' switches (native/core/build_switches.h): always defined, 0 or 1.
no_gpu=(-DMMAEREC_WITH_CUDA=0 -DMMAEREC_WITH_TENSORRT=0)
core=(native/core/*.cc)
require=${MMAEREC_REQUIRE_NATIVE_TOOLS:-0}
skip() {
  echo "test-native: SKIP $*"
  if [ "$require" = 1 ]; then echo "test-native: MMAEREC_REQUIRE_NATIVE_TOOLS=1, failing" >&2; exit 1; fi
}

# A misspelt switch (an earlier one compiled TensorRT out without a word) fails here.
spellings=$(grep -rhoE '\bMMAER[A-Z]*_WITH_[A-Z_]+' native binding.gyp scripts src --include='*.cc' --include='*.h' \
  --include='*.cu' --include='*.gyp' --include='*.sh' --include='*.mjs' --include='*.ts' | sort -u)
unknown=$(echo "$spellings" | grep -vxE 'MMAEREC_WITH_(CUDA|TENSORRT)' || true)
if [ -n "$unknown" ]; then echo "test-native: FAIL unknown build switch spelling(s): $unknown (use MMAEREC_WITH_CUDA / MMAEREC_WITH_TENSORRT)" >&2; exit 1; fi
echo "test-native: build switches spelled MMAEREC_WITH_CUDA / MMAEREC_WITH_TENSORRT everywhere"

echo "test-native: core tests ($($CXX --version | head -1))"
$CXX "${flags[@]}" "${no_gpu[@]}" "${core[@]}" native/test/core_test.cc -o "$out/core_test"
"$out/core_test"

NVCC=${MMAEREC_NVCC:-$(command -v nvcc || true)}
if [ -n "$NVCC" ]; then
  for arch in 87 90; do
    echo "test-native: nvcc -c native/cuda/*.cu for sm_$arch"
    for cu in native/cuda/*.cu; do
      "$NVCC" -std=c++17 -O3 -c "$cu" -o "$out/$(basename "$cu" .cu)_sm$arch.o" -gencode "arch=compute_$arch,code=sm_$arch"
    done
  done
  echo "test-native: CUDA test executable"
  "$NVCC" -std=c++17 -O2 -Xcompiler -pthread -DMMAEREC_WITH_CUDA=1 -DMMAEREC_WITH_TENSORRT=0 \
    native/cuda/*.cu native/test/cuda_test.cc "${core[@]}" \
    -o "$out/cuda_test" -cudart static -gencode arch=compute_90,code=sm_90 -gencode arch=compute_75,code=compute_75
  "$out/cuda_test"  # prints its own SKIP line and exits 0 when no GPU is usable
else
  skip "CUDA compile: nvcc not found (install the CUDA toolkit or set MMAEREC_NVCC)"
fi

AARCH64_CXX=${AARCH64_CXX:-aarch64-linux-gnu-g++}
if ! command -v "$AARCH64_CXX" >/dev/null; then
  skip "aarch64 cross-test: $AARCH64_CXX not found (apt-get install g++-aarch64-linux-gnu)"
elif ! command -v qemu-aarch64-static >/dev/null; then
  skip "aarch64 cross-test: qemu-aarch64-static not found (apt-get install qemu-user-static)"
else
  echo "test-native: core tests cross-compiled for aarch64, run under qemu"
  "$AARCH64_CXX" "${flags[@]}" "${no_gpu[@]}" "${core[@]}" native/test/core_test.cc -o "$out/core_test_aarch64"
  qemu-aarch64-static -L /usr/aarch64-linux-gnu "$out/core_test_aarch64"
fi
echo "test-native: done"
