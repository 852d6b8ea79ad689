#include "model/model_stats.h"

#include "core/errors.h"

namespace dsmoe {

int64_t feed_forward_parameters(int64_t hidden, int64_t width) {
  return checked_product({3, hidden, width}, "parameter count");
}

int64_t attention_parameters(const ModelConfig& c) {
  return 2 * c.hidden_size * c.q_dim() + 2 * c.hidden_size * c.kv_dim();
}

int64_t moe_layer_count(const ModelConfig& c) {
  int64_t n = 0;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) n += c.is_moe_layer(i) ? 1 : 0;
  return n;
}

ParameterCounts count_parameters(const ModelConfig& c) {
  ParameterCounts p;
  const int64_t hidden = c.hidden_size;
  const int64_t moe_layers = moe_layer_count(c);
  const int64_t dense_layers = c.num_hidden_layers - moe_layers;
  const int64_t expert = feed_forward_parameters(hidden, c.moe_intermediate_size);
  p.embedding = c.vocab_size * hidden;
  p.attention = c.num_hidden_layers * attention_parameters(c);
  p.norms = (2 * c.num_hidden_layers + 1) * hidden;
  p.dense_mlp = dense_layers * feed_forward_parameters(hidden, c.intermediate_size);
  p.routers = moe_layers * c.n_routed_experts * hidden;
  p.routed_experts = moe_layers * c.n_routed_experts * expert;
  p.shared_experts = moe_layers * feed_forward_parameters(hidden, c.shared_intermediate_size());
  p.lm_head = c.tie_word_embeddings ? 0 : c.vocab_size * hidden;
  p.total =
      p.embedding + p.attention + p.norms + p.dense_mlp + p.routers + p.routed_experts + p.shared_experts + p.lm_head;
  const int64_t lm_head_use = c.vocab_size * hidden;  // tied or not, the projection runs
  p.active = p.attention + p.norms + p.dense_mlp + p.routers + moe_layers * c.num_experts_per_tok * expert +
             p.shared_experts + lm_head_use;
  p.active_with_embedding = p.active + p.embedding;
  return p;
}

int64_t kv_cache_bytes_per_token(const ModelConfig& c, int64_t bytes_per_value) {
  return 2 * c.num_hidden_layers * c.kv_dim() * bytes_per_value;
}

}  // namespace dsmoe
