// DeepseekForCausalLM (and the dense Llama skeleton): embed, N decoder layers, norm, lm_head.
#pragma once

#include <cstdint>
#include <shared_mutex>

#include "dsmoe/forward.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "rope/rope.h"

namespace dsmoe {

class Transformer {
 public:
  Transformer(ModelConfig config, ModelWeights weights);

  // tokens [batch, n_new] continue every row of `cache` from position cache.length().
  // Throws Error for a token outside the vocabulary or a sequence longer than the cache.
  void forward(const int32_t* tokens, int64_t batch, int64_t n_new, KvCache& cache, const ForwardOptions& options,
               ForwardResult& result) const;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }

 private:
  void embed(const int32_t* tokens, int64_t n_tokens, float* x) const;
  // Grows the RoPE table to n_positions and holds it shared for the caller's forward pass.
  std::shared_lock<std::shared_mutex> rope_for(int64_t n_positions) const;

  ModelConfig config_;
  ModelWeights weights_;
  mutable std::shared_mutex rope_mutex_;  // sessions share one table; growing it is exclusive
  mutable RopeCache rope_;
};

}  // namespace dsmoe
