#!/usr/bin/env bash
# One command for the first machine with an NVIDIA GPU (a Jetson Orin, a workstation, a lent H100/H200):
#   bash scripts/gpu-check.sh
# builds and runs every CUDA test against the CPU core (native/test/cuda_test.cc: each kernel, the fused score
# through both entries, the CUDA-or-CPU dispatch, the device-pointer entry TensorRT uses), times CPU vs CUDA
# scoring, rebuilds the addon and runs its native tests through Node when Node and node_modules are there, and
# builds and runs the TensorRT C++ test when TensorRT is installed. One PASS/FAIL/SKIP line per step, then a
# summary; exit 1 on any FAIL. Expected output: docs/gpu-check.md. Needs nvcc (CUDA 12 or 13) and the driver.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/gpu-check
mkdir -p "$out"
fails=0
pass() { echo "gpu-check: PASS $*"; }
fail() { echo "gpu-check: FAIL $*"; fails=$((fails + 1)); }
skip() { echo "gpu-check: SKIP $*"; }
run_step() {  # <name> <log> <command...>: PASS/FAIL by exit status; the log's last lines on failure
  local name=$1 log=$2; shift 2
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name (log: $log)"; tail -n 15 "$log" | sed 's/^/    /'; fi
}

if command -v nvidia-smi >/dev/null && gpu=$(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>/dev/null | head -1) && [ -n "$gpu" ]; then
  pass "GPU: $gpu"
  cap=$(echo "$gpu" | awk -F', ' '{print $2}' | tr -d '.')
elif [ -e /etc/nv_tegra_release ]; then
  pass "GPU: Jetson ($(head -1 /etc/nv_tegra_release))"
  cap=87
else
  fail "no NVIDIA GPU or driver (nvidia-smi found nothing): run this on the GPU machine"
  echo "gpu-check: 1 FAIL"; exit 1
fi

NVCC=${MMAEREC_NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$NVCC" ] || { fail "nvcc not found (install the CUDA toolkit or set MMAEREC_NVCC)"; echo "gpu-check: $fails FAIL"; exit 1; }
core=(native/core/*.cc)
flags=(-std=c++17 -O3 -Xcompiler -pthread -DMMAEREC_WITH_CUDA=1 -DMMAEREC_WITH_TENSORRT=0)

for arch in 87 90; do
  run_step "nvcc compiles native/cuda for sm_$arch" "$out/nvcc_sm$arch.log" \
    bash -c "for cu in native/cuda/*.cu; do '$NVCC' -std=c++17 -O3 -c \"\$cu\" -o '$out'/\$(basename \"\$cu\" .cu)_sm$arch.o -gencode arch=compute_$arch,code=sm_$arch || exit 1; done"
done
run_step "build cuda_test for this GPU (sm_$cap)" "$out/build_cuda_test.log" \
  "$NVCC" "${flags[@]}" native/cuda/*.cu native/test/cuda_test.cc "${core[@]}" -o "$out/cuda_test" -cudart static \
  -gencode "arch=compute_$cap,code=sm_$cap"
if [ -x "$out/cuda_test" ]; then
  "$out/cuda_test" >"$out/cuda_test.log" 2>&1; status=$?
  if grep -q "SKIP" "$out/cuda_test.log"; then
    fail "cuda_test found no usable device: $(grep SKIP "$out/cuda_test.log")"
  elif [ $status -eq 0 ]; then
    pass "cuda_test: every CUDA kernel, both entries and the dispatch within 1e-5 of the CPU core"
  else
    fail "cuda_test (log: $out/cuda_test.log)"; grep -E "FAIL|max abs" "$out/cuda_test.log" | sed 's/^/    /'
  fi
  grep "timing" "$out/cuda_test.log" | sed 's/^cuda_test: /gpu-check: TIME /'
fi
run_step "core_test (the CPU reference the CUDA results are compared with)" "$out/core_test.log" \
  bash -c "g++ -std=c++17 -O3 -fno-math-errno -fno-trapping-math -pthread -DMMAEREC_WITH_CUDA=0 -DMMAEREC_WITH_TENSORRT=0 ${core[*]} native/test/core_test.cc -o '$out/core_test' && '$out/core_test'"

if command -v node >/dev/null && [ -d node_modules/vitest ]; then
  run_step "addon rebuilt with the CUDA kernels" "$out/build_addon.log" env MMAEREC_NATIVE_STRICT=1 node scripts/build-native.mjs
  if node -e "const a=require('./build/Release/mmaerec_native.node');process.exit(a.info().cuda.available?0:1)" 2>/dev/null; then
    pass "addon sees the GPU: $(node -e "console.log(require('./build/Release/mmaerec_native.node').info().cuda.deviceName)")"
  else
    fail "the addon does not see the GPU: $(node -e "console.log(require('./build/Release/mmaerec_native.node').info().cuda.reason)" 2>&1)"
  fi
  run_step "Node native tests on the GPU (test/native)" "$out/vitest_native.log" npx vitest run test/native
  npx tsx bench/scoring.ts >"$out/bench_scoring.log" 2>&1 && grep -E "native CPU 1 thread, machine|native CUDA" "$out/bench_scoring.log" | sed 's/^/gpu-check: TIME /'
else
  skip "Node checks: node or node_modules missing (npm ci first to add the addon's tests through Node)"
fi

trt_inc=""
for c in "${TENSORRT_ROOT:-}/include" /usr/include/aarch64-linux-gnu /usr/include/x86_64-linux-gnu /usr/local/tensorrt/include; do
  [ -f "$c/NvInfer.h" ] && { trt_inc=$c; break; }
done
if [ -n "$trt_inc" ]; then
  run_step "TensorRT C++ test builds ($trt_inc)" "$out/trt_build.log" bash native/tensorrt/test/build.sh "$out/tensorrt_test"
  [ -x "$out/tensorrt_test" ] && run_step "TensorRT C++ test runs" "$out/trt_test.log" "$out/tensorrt_test"
  if command -v node >/dev/null && [ -d node_modules/vitest ]; then
    run_step "TensorRT back end tests (test/tensorrt)" "$out/vitest_trt.log" npx vitest run test/tensorrt
    npx tsx bench/tensorrt.ts >"$out/bench_trt.log" 2>&1 && tail -n 5 "$out/bench_trt.log" | sed 's/^/gpu-check: TIME /'
  fi
else
  skip "TensorRT: not installed (set TENSORRT_ROOT; JetPack's is found without it)"
fi

if [ $fails -eq 0 ]; then echo "gpu-check: all PASS"; else echo "gpu-check: $fails FAIL"; exit 1; fi
