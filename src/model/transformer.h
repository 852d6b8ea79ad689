// DeepseekForCausalLM (and the dense Llama skeleton): embed, N decoder layers, norm, lm_head.
#pragma once

#include <cstdint>
#include <span>

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

  // Continuous batching: one new token for each of several caches (one row each, each at its own position):
  // tokens[i] continues caches[i]. The weights are read once for all of them; rotation and attention are each
  // cache's own, so every row's logits are bit for bit what forward() on its cache alone gives. result.logits is
  // [caches.size(), vocab]; the buffers are those of caches[0]'s workspace.
  void forward_caches(std::span<const int32_t> tokens, std::span<KvCache* const> caches, ForwardResult& result) const;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }

 private:
  void forward_chunk(const int32_t* tokens, int64_t batch, int64_t n_new, int64_t final_length, KvCache& cache,
                     const ForwardOptions& options, ForwardResult& result) const;
  void embed(const int32_t* tokens, int64_t n_tokens, float* x) const;
  // The decoder layers over the residual stream x [n_tokens, hidden], then the final norm; attend(layer, normed,
  // out) is the attention of the caller's cache arrangement.
  template <typename Attend>
  void run_layers(float* x, int64_t n_tokens, ForwardWorkspace& ws, const ForwardOptions& options,
                  ForwardResult& result, Attend&& attend) const;
  // The frequencies for this call (dynamic NTK and LongRoPE depend on the sequence's length: that of the whole
  // call, final_length, as HF computes them for the call however it is chunked here) and cos/sin of the
  // positions this chunk adds, kept in the cache: nothing about RoPE is shared between sessions.
  void prepare_rope(KvCache& cache, int64_t n_new, int64_t final_length) const;

  ModelConfig config_;
  ModelWeights weights_;
  RopeParams rope_;
};

}  // namespace dsmoe
