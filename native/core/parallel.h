// A tiny worker pool for splitting image rows over a few cores. Each kernel phase is a parallel_for over
// rows; the calling thread takes the first chunk, so a pool of 1 thread runs inline with no overhead.
#pragma once
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

 private:
  void worker_loop(int index);

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // held by the caller whose job owns the workers
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* job_ = nullptr;
  int job_n_ = 0;
  long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
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
