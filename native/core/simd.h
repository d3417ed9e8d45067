// Portable speed for the hot loops. The loops are written plainly (no intrinsics) so that the compiler
// vectorises them for whatever the target has (NEON on Jetson, SSE2 baseline on x86_64). On x86_64 with GCC
// the hot functions are additionally compiled for AVX2 and AVX-512F and chosen at load time (ifunc), so
// one binary runs on any x86_64 and still uses wide vectors where the CPU has them.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__CUDACC__) && \
    !defined(MMAEREC_NO_CLONES)
#define MMAEREC_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MMAEREC_HOT
#endif
