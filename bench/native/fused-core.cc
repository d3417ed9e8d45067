// The bare C++ fused score (no Node), for perf: BENCHMARKS.md "Scoring", issue 17. The bench's 256x256 pair.
//   g++ -std=c++17 -O3 -fno-math-errno -fno-trapping-math -pthread -g -DMMAEREC_WITH_CUDA=0 -DMMAEREC_WITH_TENSORRT=0 \
//     native/core/*.cc bench/native/fused-core.cc -o build/fused-core
//   build/fused-core [runs=300] [threads=1]     (perf record -e cpu-clock -g build/fused-core 2000)
// Prints the median thread CPU ms, the median and best wall ms, the pool's inline jobs and the score.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <vector>
#include <cmath>
#include <cstdlib>
#include <algorithm>
#include "../../native/core/fused.h"
#include "../../native/core/parallel.h"
using namespace mmaerec;
int main(int argc, char** argv) {
  const int W = 256, H = 256, runs = argc > 1 ? atoi(argv[1]) : 300;
  const int threads = argc > 2 ? atoi(argv[2]) : 1;
  std::vector<float> in(W*H*3), rc(W*H*3), map(W*H);
  unsigned s = 12345;
  auto rnd = [&]{ s = s*1103515245u+12345u; return s / 4294967296.0; };
  for (int i = 0; i < W*H*3; ++i) { int px = i/3; double base = 0.5 + 0.3*sin((px%W)*0.05)*cos((px/W)*0.07); in[i] = base + 0.02*rnd(); rc[i] = base + 0.02*rnd(); }
  FusedParams p;
  WorkerPool pool(threads);
  std::vector<double> t, cpu;
  double sc = 0;
  for (int r = 0; r < runs; ++r) {
    timespec c0, c1; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    auto t0 = std::chrono::steady_clock::now();
    sc = fused_score(in.data(), rc.data(), W, H, p, map.data(), threads > 1 ? &pool : nullptr).score;
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1); cpu.push_back((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6);
  }
  std::sort(t.begin(), t.end()); std::sort(cpu.begin(), cpu.end()); printf("cpu median %.3f p10 %.3f  ", cpu[cpu.size()/2], cpu[cpu.size()/10]);
  printf("solo %ld  ", pool.solo_jobs()); printf("median %.3f ms  min %.3f  score %.7f\n", t[t.size()/2], t[0], sc);
}
