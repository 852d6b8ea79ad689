// Thread count and a static parallel-for. Work is split by index, and every index is computed by
// the same code whatever thread runs it, so results are bit-identical for any thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace dsmoe {

void set_num_threads(int n);  // n <= 0: all cores
int num_threads();

// Calls body(begin, end) on disjoint chunks covering [0, n). An exception thrown by body is rethrown
// to the caller after all chunks end.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body);

}  // namespace dsmoe
