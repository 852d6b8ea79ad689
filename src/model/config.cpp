#include "model/config.h"

#include "core/errors.h"

namespace dsmoe {

RopeParams ModelConfig::rope_params() const {
  RopeParams params;
  params.rotary_dim = rotary_dim;
  params.theta = rope_theta;
  params.pairing = rope_pairing;
  params.scaling = rope_scaling;
  params.max_position_embeddings = max_position_embeddings;
  params.dynamic_policy = rope_dynamic_policy;
  return params;
}

void validate_model_config(const ModelConfig& c, const std::string& source) {
  auto positive = [&](const char* what, int64_t value) {
    if (value <= 0) fail(source, ": ", what, " must be positive, found ", value);
  };
  positive("vocabulary size", c.vocab_size);
  positive("hidden size", c.hidden_size);
  positive("layer count", c.num_hidden_layers);
  positive("attention head count", c.num_attention_heads);
  positive("key/value head count", c.num_key_value_heads);
  positive("head dimension", c.head_dim);
  positive("context length", c.max_position_embeddings);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    fail(source, ": key/value head count ", c.num_key_value_heads, " does not divide the head count ",
         c.num_attention_heads);
  if (c.rotary_dim < 2 || c.rotary_dim % 2 != 0 || c.rotary_dim > c.head_dim)
    fail(source, ": rotary dimension ", c.rotary_dim, " must be even, at least 2 and at most the head dimension ",
         c.head_dim);
  if (!(c.rope_theta > 1.0 && c.rope_theta < 1e30)) fail(source, ": RoPE base ", c.rope_theta, " is not in (1, 1e30)");
  if (!(c.rms_norm_eps >= 0.0 && c.rms_norm_eps < 1.0))
    fail(source, ": RMSNorm epsilon ", c.rms_norm_eps, " is not in [0, 1)");
  const bool any_dense = c.n_routed_experts == 0 || c.first_k_dense_replace > 0 || c.moe_layer_freq > 1;
  if (any_dense) positive("dense feed-forward width", c.intermediate_size);
  if (c.n_routed_experts < 0 || c.n_shared_experts < 0) fail(source, ": expert counts must not be negative");
  if (c.n_routed_experts > 0) {
    positive("expert feed-forward width", c.moe_intermediate_size);
    positive("experts used per token", c.num_experts_per_tok);
    positive("MoE layer frequency", c.moe_layer_freq);
    if (c.num_experts_per_tok > c.n_routed_experts)
      fail(source, ": ", c.num_experts_per_tok, " experts used per token exceeds the ", c.n_routed_experts, " experts");
  }
}

}  // namespace dsmoe
