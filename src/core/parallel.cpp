#include "core/parallel.h"

#include <omp.h>

#include <algorithm>

namespace dsmoe {
namespace {
int g_threads = 0;
}

void set_num_threads(int n) { g_threads = n > 0 ? n : omp_get_num_procs(); }

int num_threads() { return g_threads > 0 ? g_threads : omp_get_num_procs(); }

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int threads = int(std::min<int64_t>(num_threads(), n));
  if (threads <= 1) {
    body(0, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t count = omp_get_num_threads();
    const int64_t begin = n * t / count;
    const int64_t end = n * (t + 1) / count;
    if (begin < end) body(begin, end);
  }
}

}  // namespace dsmoe
