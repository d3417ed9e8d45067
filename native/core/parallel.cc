#include "parallel.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace mmaerec {

namespace {
using Clock = std::chrono::steady_clock;

// Chunk i of n items split over parts: contiguous, sizes differ by at most one.
void chunk(int n, int parts, int i, int* begin, int* end) {
  const int base = n / parts, extra = n % parts;
  *begin = i * base + (i < extra ? i : extra);
  *end = *begin + base + (i < extra ? 1 : 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Polls ready() for about `micros`; true when it became true while polling.
template <typename Ready>
bool spin_until(Ready ready, int micros) {
  const auto deadline = Clock::now() + std::chrono::microseconds(micros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (Clock::now() >= deadline) return ready();
  }
}

constexpr std::uint64_t ticket(std::uint32_t gen, int chunks, int next) {
  return (static_cast<std::uint64_t>(gen) << 32) | (static_cast<std::uint64_t>(chunks) << 16) |
         static_cast<std::uint64_t>(next);
}
constexpr std::uint32_t gen_of(std::uint64_t t) { return static_cast<std::uint32_t>(t >> 32); }
constexpr int chunks_of(std::uint64_t t) { return static_cast<int>((t >> 16) & 0xFFFF); }
constexpr int next_of(std::uint64_t t) { return static_cast<int>(t & 0xFFFF); }
}  // namespace

WorkerPool::WorkerPool(int threads) : threads_(std::clamp(threads, 1, 256)) {
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int WorkerPool::claim(std::uint32_t gen) {
  std::uint64_t t = ticket_.load(std::memory_order_acquire);
  while (gen_of(t) == gen && next_of(t) < chunks_of(t)) {
    if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return next_of(t);
    }
  }
  return -1;
}

void WorkerPool::run_chunk(int index) {
  int begin, end;
  chunk(job_n_, job_chunks_, index, &begin, &end);
  if (begin < end) (*job_)(begin, end);
}

void WorkerPool::record_outcome(bool miss) {
  if (!miss) {
    misses_in_a_row_ = 0;
    return;
  }
  ++misses_in_a_row_;
  // One miss alone is a worker waking up late after an idle gap; from the second on, back off exponentially.
  if (misses_in_a_row_ >= 2) solo_left_ = std::min(kMaxSoloJobs, 8 << std::min(misses_in_a_row_ - 2, 12));
}

void WorkerPool::parallel_for(int n, const std::function<void(int, int)>& fn) {
  if (n <= 0) return;
  std::unique_lock<std::mutex> owner(run_mutex_, std::try_to_lock);
  if (!owner.owns_lock() || threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  if (solo_left_ > 0) {
    --solo_left_;
    solo_total_.fetch_add(1, std::memory_order_relaxed);
    fn(0, n);
    return;
  }
  const int chunks = std::min(n, threads_);
  job_ = &fn;
  job_n_ = n;
  job_chunks_ = chunks;
  done_chunks_.store(0, std::memory_order_relaxed);
  worker_chunks_.store(0, std::memory_order_relaxed);
  const std::uint32_t gen = gen_of(ticket_.load(std::memory_order_relaxed)) + 1;
  {
    // Under the mutex so that a worker between its predicate check and its sleep cannot miss the new job.
    std::lock_guard<std::mutex> lock(mutex_);
    ticket_.store(ticket(gen, chunks, 0), std::memory_order_release);
  }
  wake_.notify_all();  // cheap when nobody sleeps (no system call)
  // The caller claims chunks too, so whatever no worker has started gets done here, without waiting.
  int mine = 0;
  for (int c; (c = claim(gen)) >= 0; ++mine) run_chunk(c);
  done_chunks_.fetch_add(mine, std::memory_order_acq_rel);
  const auto finished = [this, chunks] { return done_chunks_.load(std::memory_order_acquire) == chunks; };
  bool stalled = false;
  if (!finished()) {
    stalled = !spin_until(finished, kStallMicros);
    if (stalled && !spin_until(finished, kSpinMicros - kStallMicros)) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, finished);
    }
  }
  record_outcome(stalled || worker_chunks_.load(std::memory_order_relaxed) == 0);
  job_ = nullptr;
}

void WorkerPool::worker_loop() {
  std::uint32_t seen = 0;
  for (;;) {
    const auto ready = [&] {
      return stop_.load(std::memory_order_acquire) || gen_of(ticket_.load(std::memory_order_acquire)) != seen;
    };
    if (!spin_until(ready, kSpinMicros)) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, ready);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = gen_of(ticket_.load(std::memory_order_acquire));
    for (int c; (c = claim(seen)) >= 0;) {
      const int chunks = job_chunks_;  // read while the claimed chunk keeps the job alive
      run_chunk(c);
      worker_chunks_.fetch_add(1, std::memory_order_relaxed);
      if (done_chunks_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
        // The caller may be asleep (or about to be): take the mutex so the notify cannot fall between its
        // predicate check and its wait.
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }
}

}  // namespace mmaerec
