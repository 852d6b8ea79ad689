// Buffers that are reused from call to call: grown to the largest request they have served, never shrunk, so a
// steady state allocates nothing.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

// v's data with room for n elements (growing v if it is smaller).
template <typename T>
T* sized(std::vector<T>& v, int64_t n) {
  if (v.size() < size_t(n)) v.resize(size_t(n));
  return v.data();
}

}  // namespace dsmoe
