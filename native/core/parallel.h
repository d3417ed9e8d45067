// A tiny worker pool for splitting image rows over a few cores. Each kernel phase is a parallel_for over
// rows; the calling thread takes the first chunk, so a pool of 1 thread runs inline with no overhead.
//
// One fused score is a dozen short phases (each well under 100 us at 256x256) separated by barriers. With a
// plain condition-variable handoff every phase paid a futex wake-up of the worker and of the caller, which on
// a 2-vCPU VM cost more than the work saved: 2 threads ran slower than 1 (1.8 ms vs 0.94 ms per 256x256
// frame, BENCHMARKS.md). So both sides spin briefly (kSpinMicros) on atomics before they block: back-to-back
// phases hand over without a system call, and an idle pool still sleeps.
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmaerec {

class WorkerPool {
 public:
  /** threads >= 1: total threads that work on a job, the caller included. */
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return threads_; }

  /**
   * Runs fn(begin, end) over contiguous chunks of [0, n), one per thread, and returns when all are done.
   * Safe to call from several threads: while one job runs, other callers run their job inline (serially)
   * rather than queue behind it.
   */
  void parallel_for(int n, const std::function<void(int, int)>& fn);

  /** How long either side polls before it sleeps on the condition variable. */
  static constexpr int kSpinMicros = 100;

 private:
  void worker_loop(int index);

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // held by the caller whose job owns the workers
  std::mutex mutex_;      // guards the sleeping side of the handoff only
  std::condition_variable wake_;
  std::condition_variable done_;
  // job_ and job_n_ are written before generation_ is bumped (release) and read after it is seen (acquire);
  // the next job cannot overwrite them before pending_ reaches 0, i.e. before every worker has read them.
  const std::function<void(int, int)>* job_ = nullptr;
  int job_n_ = 0;
  std::atomic<long> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

/** parallel_for on pool, or inline over the whole range when pool is null. */
inline void for_rows(WorkerPool* pool, int n, const std::function<void(int, int)>& fn) {
  if (pool == nullptr || pool->threads() <= 1 || n <= 1) {
    if (n > 0) fn(0, n);
  } else {
    pool->parallel_for(n, fn);
  }
}

}  // namespace mmaerec
