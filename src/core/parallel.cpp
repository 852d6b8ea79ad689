#include "core/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>

namespace dsmoe {
namespace {
std::atomic<int> g_threads{0};
}

void set_num_threads(int n) { g_threads = n > 0 ? n : omp_get_num_procs(); }

int num_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : omp_get_num_procs();
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int threads = int(std::min<int64_t>(num_threads(), n));
  if (threads <= 1) {
    body(0, n);
    return;
  }
  // An exception must not leave an OpenMP region (that terminates the program): keep the first,
  // rethrow it after the join.
  std::exception_ptr failure;
  std::mutex failure_mutex;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t count = omp_get_num_threads();
    const int64_t begin = n * t / count;
    const int64_t end = n * (t + 1) / count;
    try {
      if (begin < end) body(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace dsmoe
