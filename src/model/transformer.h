// DeepseekForCausalLM (and the dense Llama skeleton): embed, N decoder layers, norm, lm_head.
#pragma once

#include <cstdint>

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
  // The frequencies for this call (dynamic NTK and LongRoPE depend on the cache's length) and cos/sin of the
  // positions it adds, kept in the cache: nothing about RoPE is shared between sessions.
  void prepare_rope(KvCache& cache, int64_t n_new) const;

  ModelConfig config_;
  ModelWeights weights_;
  RopeParams rope_;
};

}  // namespace dsmoe
