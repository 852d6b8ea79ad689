// Random weights for any config: the real 16B shape for benchmarks and `dsmoe make-model` (no download needed)
// and tiny models for tests. Values are normal-ish with std gain / sqrt(fan_in), norms ~1. Each tensor is a pure
// function of (seed, its HF name, element index), so a tensor can be drawn alone, in any order, on any thread
// count, and a model written tensor by tensor equals the one held in memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/tensor_store.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

// The float32 values of one tensor of `spec`'s shape, into out[numel].
void random_tensor_values(const WeightSpec& spec, uint64_t seed, float* out);

// Every tensor of a config drawn into memory, stored as `dtype` (any DType), under HF names.
class RandomWeights {
 public:
  RandomWeights(const ModelConfig& config, DType dtype, uint64_t seed);
  RandomWeights(const RandomWeights&) = delete;
  RandomWeights& operator=(const RandomWeights&) = delete;

  const MemoryStore& store() const { return store_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
  std::map<std::string, std::vector<uint32_t>> buffers_;  // raw storage, 4-byte aligned for every dtype
  MemoryStore store_;
};

}  // namespace dsmoe
