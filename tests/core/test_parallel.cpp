// The thread pool behind parallel_for: every index is visited exactly once, by static chunks or by tasks taken
// dynamically; exceptions reach the caller; a parallel_for inside a body runs inline; thousands of tiny steps
// in a row (the pattern of a decode step) neither lose a worker nor deadlock.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/parallel.h"

namespace dsmoe {
namespace {

struct RestoreThreads {
  ~RestoreThreads() { set_num_threads(0); }
};

TEST(Parallel, EveryIndexOnceStaticAndDynamic) {
  RestoreThreads restore;
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    for (int64_t n : {1, 2, 7, 64, 1001}) {
      for (int64_t grain : {0, 1, 3, 50}) {
        std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
        auto body = [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) seen[size_t(i)].fetch_add(1);
        };
        if (grain == 0) {
          parallel_for(n, body);
        } else {
          parallel_for_dynamic(n, grain, body);
        }
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(seen[size_t(i)].load(), 1) << threads << " threads, n " << n << ", grain " << grain << ", i " << i;
        }
      }
    }
  }
}

TEST(Parallel, ExceptionReachesTheCaller) {
  RestoreThreads restore;
  set_num_threads(3);
  EXPECT_THROW(parallel_for(100, [](int64_t begin, int64_t) {
                 if (begin > 0) throw std::runtime_error("chunk failed");
               }),
               std::runtime_error);
  int64_t total = 0;  // the pool still works afterwards
  std::atomic<int64_t> sum{0};
  parallel_for(100, [&](int64_t begin, int64_t end) { sum += end - begin; });
  total = sum.load();
  EXPECT_EQ(total, 100);
}

TEST(Parallel, NestedRunsInline) {
  RestoreThreads restore;
  set_num_threads(2);
  std::atomic<int64_t> inner{0};
  parallel_for(4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) parallel_for(10, [&](int64_t b, int64_t e) { inner += e - b; });
  });
  EXPECT_EQ(inner.load(), 40);
}

TEST(Parallel, ManyTinyStepsInARow) {
  RestoreThreads restore;
  set_num_threads(2);
  std::atomic<int64_t> sum{0};
  for (int step = 0; step < 20000; ++step) {
    parallel_for_dynamic(4, 1, [&](int64_t begin, int64_t end) { sum += end - begin; });
  }
  EXPECT_EQ(sum.load(), 80000);
}

}  // namespace
}  // namespace dsmoe
