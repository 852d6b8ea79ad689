#include "model/transformer.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/system_memory.h"
#include "model/attention_block.h"
#include "model/feed_forward.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "quant/quantize.h"

namespace dsmoe {

Transformer::Transformer(ModelConfig config, ModelWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)), rope_(config_.rope_params()) {}

void Transformer::prepare_rope(KvCache& cache, int64_t n_new, int64_t final_length) const {
  const int64_t past = cache.length();
  const bool depends_on_length =
      rope_.scaling.type == RopeScalingType::kDynamic || rope_.scaling.type == RopeScalingType::kLongRope;
  int64_t seq_len = final_length;
  if (depends_on_length && rope_.dynamic_policy == RopeDynamicPolicy::kFixedAtContext) {
    seq_len = cache.capacity();
  } else {
    seq_len = std::max(seq_len, cache.rope_length);  // HF rebuilds only when the kv length grows
  }
  if (cache.rope_frequencies.inv_freq.empty() || (depends_on_length && seq_len != cache.rope_length)) {
    cache.rope_frequencies = rope_frequencies(rope_, seq_len);
  }
  cache.rope_length = seq_len;
  cache.rope_table.compute(cache.rope_frequencies, past, n_new);
}

void Transformer::embed(const int32_t* tokens, int64_t n_tokens, float* x) const {
  const int64_t hidden = config_.hidden_size;
  const auto* table = static_cast<const unsigned char*>(weights_.embed_tokens.data);
  const size_t row_bytes = weights_.embed_tokens.row_bytes();
  for (int64_t t = 0; t < n_tokens; ++t) {
    dequantize_row(weights_.embed_tokens.dtype, table + size_t(tokens[t]) * row_bytes, x + t * hidden, hidden);
  }
}

void Transformer::forward(const int32_t* tokens, int64_t batch, int64_t n_new, KvCache& cache,
                          const ForwardOptions& options, ForwardResult& result) const {
  const ModelConfig& c = config_;
  if (batch != cache.batch()) fail("forward: ", batch, " rows but the KV cache holds ", cache.batch());
  if (n_new <= 0) fail("forward: no tokens to process");
  if (cache.length() + n_new > cache.capacity()) {
    fail("forward: ", cache.length(), " cached + ", n_new, " new positions exceed the context of ", cache.capacity());
  }
  for (int64_t t = 0; t < batch * n_new; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size) {
      fail("forward: token id ", tokens[t], " at index ", t, " is outside the vocabulary [0, ", c.vocab_size, ")");
    }
  }
  const int64_t final_length = cache.length() + n_new;
  const bool every_position = options.all_logits || options.hidden_states || options.routing;
  if (every_position) {
    // Results for every position grow with the whole call, not a chunk: logits alone are 400 KB a token for a
    // vocabulary of 100,000. Refused before the work when they would not fit.
    const uint64_t positions = uint64_t(batch) * uint64_t(n_new);
    uint64_t floats = options.all_logits ? positions * uint64_t(c.vocab_size) : 0;
    if (options.hidden_states) floats += positions * uint64_t(c.hidden_size) * uint64_t(c.num_hidden_layers + 1);
    require_available_memory(floats * sizeof(float), cat("forward: the results for ", positions, " positions"),
                             "fewer tokens in one call");
  }
  if (every_position || n_new <= kPrefillChunk) {
    forward_chunk(tokens, batch, n_new, final_length, cache, options, result);
    return;
  }
  int32_t* chunk = sized(cache.workspace.tokens, batch * kPrefillChunk);
  for (int64_t first = 0; first < n_new; first += kPrefillChunk) {
    const int64_t n = std::min(kPrefillChunk, n_new - first);
    for (int64_t b = 0; b < batch; ++b) std::copy_n(tokens + b * n_new + first, n, chunk + b * n);
    forward_chunk(chunk, batch, n, final_length, cache, options, result);
  }
  result.n_new = n_new;
}

template <typename Attend>
void Transformer::run_layers(float* x, int64_t n_tokens, ForwardWorkspace& ws, const ForwardOptions& options,
                             ForwardResult& result, Attend&& attend) const {
  const ModelConfig& c = config_;
  const int64_t hidden = c.hidden_size;
  const int64_t size = n_tokens * hidden;
  float* normed = sized(ws.normed, size);
  float* branch = sized(ws.branch, size);
  auto record_hidden = [&](const float* h) {
    if (options.hidden_states) result.hidden_states.insert(result.hidden_states.end(), h, h + size);
  };
  record_hidden(x);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const DecoderLayerWeights& layer = weights_.layers[size_t(i)];
    // h = x + attn(input_layernorm(x))
    rms_norm(x, n_tokens, hidden, layer.input_layernorm, c.rms_norm_eps, normed);
    attend(layer.self_attn, i, normed, branch);
    for (int64_t j = 0; j < size; ++j) x[j] += branch[j];
    // out = h + mlp(post_attention_layernorm(h))
    rms_norm(x, n_tokens, hidden, layer.post_attention_layernorm, c.rms_norm_eps, normed);
    if (layer.moe) {
      Routing routing;
      moe_forward(*layer.moe, c, normed, n_tokens, branch, ws, options.routing ? &routing : nullptr);
      if (options.routing) {
        result.moe_layers.push_back(i);
        result.routed_experts.insert(result.routed_experts.end(), routing.experts.begin(), routing.experts.end());
        result.routed_weights.insert(result.routed_weights.end(), routing.weights.begin(), routing.weights.end());
      }
    } else {
      feed_forward(*layer.mlp, normed, n_tokens, branch, ws);
    }
    for (int64_t j = 0; j < size; ++j) x[j] += branch[j];
    if (i + 1 < c.num_hidden_layers) record_hidden(x);
  }
  rms_norm(x, n_tokens, hidden, weights_.norm, c.rms_norm_eps, x);
  record_hidden(x);  // HF's last hidden state is the normed one
}

void Transformer::forward_chunk(const int32_t* tokens, int64_t batch, int64_t n_new, int64_t final_length,
                                KvCache& cache, const ForwardOptions& options, ForwardResult& result) const {
  const ModelConfig& c = config_;
  const int64_t n_tokens = batch * n_new;
  prepare_rope(cache, n_new, final_length);
  const int64_t hidden = c.hidden_size;

  // Reuse the result's and the workspace's buffers: a decode step allocates nothing once they have grown.
  result.batch = batch;
  result.n_new = n_new;
  result.hidden_states.clear();
  result.moe_layers.clear();
  result.routed_experts.clear();
  result.routed_weights.clear();
  ForwardWorkspace& ws = cache.workspace;
  float* x = sized(ws.x, n_tokens * hidden);  // the residual stream [batch, n_new, hidden]
  embed(tokens, n_tokens, x);
  run_layers(x, n_tokens, ws, options, result,
             [&](const AttentionWeights& w, int64_t layer, const float* normed, float* out) {
               attention_block(w, c, layer, normed, batch, n_new, cache, out);
             });

  if (options.all_logits) {
    result.logits.resize(size_t(n_tokens * c.vocab_size));
    matmul_wt(MatmulJob{x, n_tokens, &weights_.lm_head, result.logits.data()}, ws.matmul);
  } else {
    float* last = sized(ws.last, batch * hidden);
    for (int64_t b = 0; b < batch; ++b) std::copy_n(x + ((b + 1) * n_new - 1) * hidden, hidden, last + b * hidden);
    result.logits.resize(size_t(batch * c.vocab_size));
    const MatmulJob head{last, batch, &weights_.lm_head, result.logits.data()};
    matmul_wt(head, ws.matmul);
  }
  cache.advance(n_new);
}

void Transformer::forward_caches(std::span<const int32_t> tokens, std::span<KvCache* const> caches,
                                 ForwardResult& result) const {
  const ModelConfig& c = config_;
  const auto n_tokens = int64_t(caches.size());
  if (n_tokens == 0 || tokens.size() != caches.size()) {
    fail("forward_caches: ", tokens.size(), " tokens for ", caches.size(), " caches (one each, at least one)");
  }
  for (size_t i = 0; i < caches.size(); ++i) {
    KvCache& cache = *caches[i];
    if (cache.batch() != 1) fail("forward_caches: cache ", i, " holds ", cache.batch(), " rows, not one");
    if (cache.length() + 1 > cache.capacity()) fail("forward_caches: cache ", i, " is full (", cache.capacity(), ")");
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      fail("forward: token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ", c.vocab_size, ")");
    }
    for (size_t j = 0; j < i; ++j) {
      if (caches[j] == caches[i]) fail("forward_caches: cache ", i, " appears twice");
    }
    prepare_rope(cache, 1, cache.length() + 1);
  }
  result.batch = n_tokens;
  result.n_new = 1;
  result.hidden_states.clear();
  result.moe_layers.clear();
  result.routed_experts.clear();
  result.routed_weights.clear();
  ForwardWorkspace& ws = caches[0]->workspace;
  float* x = sized(ws.x, n_tokens * c.hidden_size);
  embed(tokens.data(), n_tokens, x);
  const ForwardOptions last_only;
  run_layers(x, n_tokens, ws, last_only, result,
             [&](const AttentionWeights& w, int64_t layer, const float* normed, float* out) {
               attention_block_caches(w, c, layer, normed, caches, ws, out);
             });
  result.logits.resize(size_t(n_tokens * c.vocab_size));
  matmul_wt(MatmulJob{x, n_tokens, &weights_.lm_head, result.logits.data()}, ws.matmul);
  for (KvCache* cache : caches) cache->advance(1);
}

}  // namespace dsmoe
