#!/usr/bin/env bash
# Compile-checks the TensorRT back end (native/tensorrt/*.cc, its C++ test and its N-API glue native/glue/tensorrt*.cc) with `g++ -fsyntax-only -Werror`
# against real TensorRT headers, without TensorRT libraries or a GPU.
#
#   scripts/check-tensorrt-headers.sh <tensorrt-include-dir> [<extra-include-dir>...]
#
# <tensorrt-include-dir> holds NvInfer.h (and NvOnnxParser.h, or pass the parser's directory as an extra dir), e.g.
# the `include/` of github.com/NVIDIA/TensorRT at a release tag. CUDA headers come from the local CUDA toolkit
# (CUDA_HOME, nvcc's directory, or /usr/local/cuda*). Node-API headers from node-addon-api and Node's include dir.
# Without a header dir it SKIPS loudly (exit 0): CI machines cannot fetch TensorRT; docs/tensorrt.md records which
# versions were checked and where.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ $# -lt 1 ] || [ -z "${1:-}" ]; then
  echo "check-tensorrt-headers: SKIPPED: no TensorRT include dir given (usage: $0 <tensorrt-include-dir> [extra-include-dir...]);"
  echo "check-tensorrt-headers: SKIPPED: see docs/tensorrt.md for the versions last checked and how to fetch the headers."
  exit 0
fi
trt_inc="$1"; shift
[ -f "$trt_inc/NvInfer.h" ] || { echo "check-tensorrt-headers: $trt_inc/NvInfer.h not found: pass TensorRT's include/ directory" >&2; exit 2; }

cuda_inc=""
for c in "${CUDA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v nvcc 2>/dev/null || echo /nonexistent/bin/nvcc)")")")" /usr/local/cuda /usr/local/cuda-*; do
  [ -n "$c" ] && [ -f "$c/include/cuda_runtime_api.h" ] && { cuda_inc="$c/include"; break; }
done
[ -n "$cuda_inc" ] || { echo "check-tensorrt-headers: CUDA headers (cuda_runtime_api.h) not found: set CUDA_HOME" >&2; exit 2; }

node_inc=""
for c in "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node" /usr/include/node /usr/local/include/node; do
  [ -f "$c/node_api.h" ] && { node_inc="$c"; break; }
done
[ -n "$node_inc" ] || { echo "check-tensorrt-headers: node_api.h not found: install Node's headers" >&2; exit 2; }

includes=(-isystem "$trt_inc" -isystem "$cuda_inc" -isystem "$root/node_modules/node-addon-api" -isystem "$node_inc")
for extra in "$@"; do includes+=(-isystem "$extra"); done
version="$(printf '#include <NvInferVersion.h>\nNV_TENSORRT_MAJOR.NV_TENSORRT_MINOR.NV_TENSORRT_PATCH\n' | g++ -E -P -x c++ -I "$trt_inc" - | tail -n 1 | tr -d ' ')"
echo "check-tensorrt-headers: TensorRT $version headers in $trt_inc, CUDA headers in $cuda_inc"

# The host compiler, and the Jetson's architecture too when the cross compiler is installed (scripts/ci-system-deps.sh).
compilers=(g++)
command -v aarch64-linux-gnu-g++ >/dev/null && compilers+=(aarch64-linux-gnu-g++)

status=0
check_one() {  # <compiler> <source> <napi exception mode> <MMAEREC_WITH_CUDA: 0 or 1>
  # The addon's own flags (binding.gyp): NAPI_VERSION=8, NODE_ADDON_API_DISABLE_DEPRECATED, -fexceptions.
  "$1" -std=c++17 -fexceptions -Wall -Wextra -Werror -fsyntax-only -DMMAEREC_WITH_TENSORRT=1 -DMMAEREC_WITH_CUDA="$4" \
    -Werror=undef -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -D"$3" "${includes[@]}" "$2"
}
for cxx in "${compilers[@]}"; do
  echo "check-tensorrt-headers: with $cxx"
  # native/glue/tensorrt*.cc: the N-API glue; native/glue/addon.cc: the entry's `#if MMAEREC_WITH_TENSORRT` hook.
  for src in "$root"/native/tensorrt/*.cc "$root"/native/tensorrt/test/*.cc "$root"/native/glue/tensorrt*.cc "$root"/native/glue/addon.cc; do
    for mode in NAPI_CPP_EXCEPTIONS NAPI_DISABLE_CPP_EXCEPTIONS; do
      case "$src" in */glue/*) ;; *) [ "$mode" = NAPI_CPP_EXCEPTIONS ] || continue ;; esac
      # With and without the CUDA kernels (the GPU scoring joined to inference exists only with them).
      for with_cuda in 0 1; do
        if check_one "$cxx" "$src" "$mode" "$with_cuda"; then
          echo "  ok   ${src#$root/} ($mode, MMAEREC_WITH_CUDA=$with_cuda)"
        else
          echo "  FAIL ${src#$root/} ($mode, MMAEREC_WITH_CUDA=$with_cuda)"; status=1
        fi
      done
    done
  done
done
[ $status -eq 0 ] && echo "check-tensorrt-headers: all TensorRT sources compile against $trt_inc" || echo "check-tensorrt-headers: FAILED" >&2
exit $status
