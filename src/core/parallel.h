// Thread count and a static parallel-for on a pool of persistent workers. Work is split by index, and every
// index is computed by the same code whatever thread runs it, so results are bit-identical for any thread count.
//
// The workers stay awake between the many small parallel steps of a forward pass (spinning on a counter for
// a couple of milliseconds, then sleeping), so a step costs a store and a barrier instead of a wake-up; a
// step allocates nothing (the body is passed by reference, not as a std::function).
#pragma once

#include <cstdint>
#include <type_traits>

#include "dsmoe/threads.h"  // set_num_threads, num_threads, available_cores, max_useful_threads

namespace dsmoe {

namespace parallel_detail {
using ChunkFn = void (*)(void* body, int64_t begin, int64_t end);
// grain 0: one static chunk per thread; grain > 0: threads take `grain` indices at a time until none are left.
void run(int64_t n, int64_t grain, ChunkFn fn, void* body);
template <typename Body>
void run(int64_t n, int64_t grain, Body&& body) {
  using B = std::remove_reference_t<Body>;
  run(
      n, grain, [](void* b, int64_t begin, int64_t end) { (*static_cast<B*>(b))(begin, end); },
      const_cast<void*>(static_cast<const void*>(&body)));
}
}  // namespace parallel_detail

// Calls body(begin, end) on disjoint chunks covering [0, n): chunk i of T is [n*i/T, n*(i+1)/T). An exception
// thrown by body is rethrown to the caller after all chunks end. A parallel_for started while the pool is busy
// (from a body, or from another thread) runs on the calling thread alone.
template <typename Body>
void parallel_for(int64_t n, Body&& body) {
  parallel_detail::run(n, 0, body);
}

// The same, but threads take `grain` indices at a time as they finish (uneven work balances itself). Which
// thread runs an index then varies from run to run, so body must compute each index the same way on any thread
// (as every kernel here does): results stay bit-identical.
template <typename Body>
void parallel_for_dynamic(int64_t n, int64_t grain, Body&& body) {
  parallel_detail::run(n, grain > 0 ? grain : 1, body);
}

}  // namespace dsmoe
