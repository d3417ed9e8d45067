// A tiny worker pool for splitting image rows over a few cores. Each kernel phase is a parallel_for over
// rows; a pool of 1 thread runs inline with no overhead.
//
// One fused score is a dozen short phases (each well under 100 us at 256x256) separated by barriers. With a
// plain condition-variable handoff every phase paid a futex wake-up of the worker and of the caller, which on
// a 2-vCPU VM cost more than the work saved. So both sides spin briefly (kSpinMicros) on atomics before they
// block: back-to-back phases hand over without a system call, and an idle pool still sleeps.
//
// Under contention (another process busy on the second core) a worker may not run for a whole scheduler slice
// (milliseconds). A handoff that waits for it made 2 threads 7x slower than 1 (7.7 vs 1.1 ms per frame). So:
//  - chunks are claimed, not assigned: the caller takes every chunk no worker has started, and waits only for
//    chunks a worker is actually running. A worker that never woke up costs nothing but the notify;
//  - a job the workers did not help with, or one where the caller waited more than kStallMicros for a started
//    chunk, is a miss; after two misses in a row the pool runs the next jobs inline, for a number of jobs that
//    doubles with every further miss (up to kMaxSoloJobs), and tries the workers again after that.
// So 2 threads cost at most a few probe jobs more than 1 on a loaded machine, and still split the work when a
// core is free.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
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
   * Runs fn(begin, end) over contiguous chunks of [0, n) (at most one per thread; fewer when the caller ran a
   * chunk no worker had started) and returns when all are done. Safe to call from several threads: while one
   * job runs, other callers run their job inline (serially) rather than queue behind it.
   */
  void parallel_for(int n, const std::function<void(int, int)>& fn);

  /** How long either side polls before it sleeps on the condition variable. */
  static constexpr int kSpinMicros = 100;
  /** A caller that waited longer than this for a chunk a worker had started counts the job as a miss. */
  static constexpr int kStallMicros = 50;
  /** Longest inline stretch after repeated misses (a few hundred frames of a dozen phases). */
  static constexpr int kMaxSoloJobs = 4096;

  /** Jobs run inline since construction because of misses (tests, diagnostics). */
  long solo_jobs() const { return solo_total_.load(std::memory_order_relaxed); }

 private:
  void worker_loop();
  // Claims the next chunk of job `gen`: its index, or -1 when the job changed or has no chunk left.
  int claim(std::uint32_t gen);
  void run_chunk(int index);
  void record_outcome(bool miss);

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // held by the caller whose job owns the workers
  std::mutex mutex_;      // guards the sleeping side of the handoff only
  std::condition_variable wake_;
  std::condition_variable done_;
  // ticket_ packs (generation << 32) | (chunks << 16) | next: one CAS claims chunk `next` only while the job is
  // still `generation` and has chunks left, so a late worker can never run a chunk of a job that moved on.
  // job_ and job_n_ are written before ticket_ is published (release) and read after a successful claim
  // (acquire); the job cannot finish, hence cannot be replaced, while a claimed chunk is unfinished.
  std::atomic<std::uint64_t> ticket_{0};
  const std::function<void(int, int)>* job_ = nullptr;
  int job_n_ = 0;
  int job_chunks_ = 0;
  std::atomic<int> done_chunks_{0};
  std::atomic<int> worker_chunks_{0};
  std::atomic<bool> stop_{false};
  // Owned by the run_mutex_ holder.
  int misses_in_a_row_ = 0;
  int solo_left_ = 0;
  std::atomic<long> solo_total_{0};
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
