// DeepseekForCausalLM (and the dense Llama skeleton): embed, N decoder layers, norm, lm_head.
#pragma once

#include <cstdint>

#include "dsmoe/forward.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "dsmoe/rope/rope.h"

namespace dsmoe {

inline constexpr int64_t kPrefillChunk = 512;

class Transformer {
 public:
  Transformer(ModelConfig config, ModelWeights weights);

  // tokens [batch, n_new] continue every row of `cache` from position cache.length().
  // Throws Error for a token outside the vocabulary or a sequence longer than the cache.
  // When only the last logits are wanted, a long prompt runs in chunks of kPrefillChunk positions (as
  // llama.cpp's micro-batches do), so the activations stay the size of one chunk whatever the prompt's length.
  void forward(const int32_t* tokens, int64_t batch, int64_t n_new, KvCache& cache, const ForwardOptions& options,
               ForwardResult& result) const;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }

 private:
  void forward_chunk(const int32_t* tokens, int64_t batch, int64_t n_new, int64_t final_length, KvCache& cache,
                     const ForwardOptions& options, ForwardResult& result) const;
  void embed(const int32_t* tokens, int64_t n_tokens, float* x) const;
  // The frequencies for this call (dynamic NTK and LongRoPE depend on the sequence's length: that of the whole
  // call, final_length, as HF computes them for the call however it is chunked here) and cos/sin of the
  // positions this chunk adds, kept in the cache: nothing about RoPE is shared between sessions.
  void prepare_rope(KvCache& cache, int64_t n_new, int64_t final_length) const;

  ModelConfig config_;
  ModelWeights weights_;
  RopeParams rope_;
};

}  // namespace dsmoe
