#include "core/parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dsmoe {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Workers 1 .. T-1 (the caller is worker 0). A step: the caller publishes the body and bumps `generation_`;
// each worker sees the new generation, runs its chunk and decrements `pending_`; the caller runs chunk 0 and
// waits for `pending_` to reach 0.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  // Splits [0, n) over the first `active` threads (the others only check in).
  void run(int64_t n, int64_t grain, int active, parallel_detail::ChunkFn fn, void* body) {
    fn_ = fn;
    body_ = body;
    n_ = n;
    grain_ = grain;
    next_.store(0, std::memory_order_relaxed);
    active_ = active;
    failure_ = nullptr;
    pending_.store(threads_ - 1);
    generation_.fetch_add(1);  // seq_cst: ordered with the load of sleepers_ below
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }
    run_chunk(0);
    while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  // How long an idle worker spins before sleeping: longer than the gaps between the steps of a forward pass.
  static constexpr std::chrono::microseconds kSpin{2000};

  void run_chunk(int i) {
    if (i >= active_) return;
    try {
      if (grain_ > 0) {
        for (int64_t begin = next_.fetch_add(grain_); begin < n_; begin = next_.fetch_add(grain_)) {
          fn_(body_, begin, std::min(n_, begin + grain_));
        }
        return;
      }
      const int64_t begin = n_ * i / active_, end = n_ * (i + 1) / active_;
      if (begin < end) fn_(body_, begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
  }

  void work(int i) {
    uint64_t seen = 0;  // the generation at construction: a step published before this thread ran is not missed
    for (;;) {
      wait_for_step(seen);
      seen = generation_.load();
      if (stop_) return;
      run_chunk(i);
      pending_.fetch_sub(1, std::memory_order_release);
    }
  }

  void wait_for_step(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int spins = 0; generation_.load(std::memory_order_acquire) == seen; ++spins) {
      cpu_relax();
      if ((spins & 1023) == 1023 && std::chrono::steady_clock::now() > until) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1);  // seq_cst: either run() sees a sleeper, or this wait sees the new generation
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
        return;
      }
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  // Each counter on its own cache line: threads taking tasks must not slow the ones polling the others.
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;  // written under sleep_mutex_ before the last generation bump
  // The current step, written by run() before the generation bump that publishes it.
  parallel_detail::ChunkFn fn_ = nullptr;
  void* body_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 0;
  alignas(64) std::atomic<int64_t> next_{0};  // the next index to take, when grain_ > 0
  int active_ = 0;
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};

std::atomic<int> g_threads{0};
std::mutex g_pool_mutex;  // held while a step runs: one step at a time
std::unique_ptr<ThreadPool> g_pool;

}  // namespace

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

int max_useful_threads() { return 4 * available_cores(); }

void set_num_threads(int n) { g_threads = n > 0 ? n : available_cores(); }

int num_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : available_cores();
}

namespace parallel_detail {

void run(int64_t n, int64_t grain, ChunkFn fn, void* body) {
  if (n <= 0) return;
  const int64_t pieces = grain > 0 ? (n + grain - 1) / grain : n;
  const int threads = int(std::min<int64_t>(num_threads(), pieces));
  std::unique_lock<std::mutex> lock(g_pool_mutex, std::try_to_lock);
  if (threads <= 1 || !lock.owns_lock()) {
    fn(body, 0, n);
    return;
  }
  if (!g_pool || g_pool->threads() != num_threads()) {
    g_pool.reset();
    g_pool = std::make_unique<ThreadPool>(num_threads());
  }
  g_pool->run(n, grain, threads, fn, body);
}

}  // namespace parallel_detail
}  // namespace dsmoe
