// Random weights for any config, held in memory: the real 16B shape for benchmarks (no download
// needed) and tiny models for tests. Values are normal-ish with std gain / sqrt(fan_in), norms ~1.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/tensor_store.h"
#include "model/config.h"

namespace dsmoe {

class RandomWeights {
 public:
  RandomWeights(const ModelConfig& config, DType dtype, uint64_t seed);
  RandomWeights(const RandomWeights&) = delete;
  RandomWeights& operator=(const RandomWeights&) = delete;

  const MemoryStore& store() const { return store_; }
  size_t bytes() const { return bytes_; }

 private:
  void add(const std::string& name, std::vector<int64_t> shape, float gain);
  void add_feed_forward(const std::string& prefix, int64_t hidden, int64_t width);

  DType dtype_;
  uint64_t seed_;
  size_t bytes_ = 0;
  std::map<std::string, std::vector<uint32_t>> buffers_;  // raw storage, 4-byte aligned for every dtype
  MemoryStore store_;
};

}  // namespace dsmoe
