#include "model/weight_source.h"

#include "core/errors.h"

namespace dsmoe {

std::string_view weight_role_name(WeightRole role) {
  switch (role) {
    case WeightRole::kTokenEmbedding:
      return "token_embedding";
    case WeightRole::kOutputNorm:
      return "output_norm";
    case WeightRole::kOutput:
      return "output";
    case WeightRole::kAttentionNorm:
      return "attention_norm";
    case WeightRole::kQuery:
      return "query";
    case WeightRole::kKey:
      return "key";
    case WeightRole::kValue:
      return "value";
    case WeightRole::kAttentionOutput:
      return "attention_output";
    case WeightRole::kFfnNorm:
      return "ffn_norm";
    case WeightRole::kFfnGate:
      return "ffn_gate";
    case WeightRole::kFfnUp:
      return "ffn_up";
    case WeightRole::kFfnDown:
      return "ffn_down";
    case WeightRole::kRouter:
      return "router";
    case WeightRole::kExpertGate:
      return "expert_gate";
    case WeightRole::kExpertUp:
      return "expert_up";
    case WeightRole::kExpertDown:
      return "expert_down";
    case WeightRole::kSharedGate:
      return "shared_gate";
    case WeightRole::kSharedUp:
      return "shared_up";
    case WeightRole::kSharedDown:
      return "shared_down";
  }
  return "?";
}

std::string describe(const WeightKey& key) {
  std::string text;
  if (key.layer >= 0) text += cat("layer ", key.layer, " ");
  if (key.expert >= 0) text += cat("expert ", key.expert, " ");
  return text + std::string(weight_role_name(key.role));
}

std::vector<WeightSpec> weight_specs(const ModelConfig& c) {
  const int64_t hidden = c.hidden_size;
  std::vector<WeightSpec> specs;
  auto add = [&](WeightRole role, int64_t layer, int64_t expert, std::vector<int64_t> shape) {
    specs.push_back({{role, layer, expert}, std::move(shape)});
  };
  add(WeightRole::kTokenEmbedding, -1, -1, {c.vocab_size, hidden});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    add(WeightRole::kAttentionNorm, l, -1, {hidden});
    add(WeightRole::kQuery, l, -1, {c.q_dim(), hidden});
    add(WeightRole::kKey, l, -1, {c.kv_dim(), hidden});
    add(WeightRole::kValue, l, -1, {c.kv_dim(), hidden});
    add(WeightRole::kAttentionOutput, l, -1, {hidden, c.q_dim()});
    add(WeightRole::kFfnNorm, l, -1, {hidden});
    if (c.is_moe_layer(l)) {
      const int64_t width = c.moe_intermediate_size;
      add(WeightRole::kRouter, l, -1, {c.n_routed_experts, hidden});
      for (int64_t e = 0; e < c.n_routed_experts; ++e) {
        add(WeightRole::kExpertGate, l, e, {width, hidden});
        add(WeightRole::kExpertUp, l, e, {width, hidden});
        add(WeightRole::kExpertDown, l, e, {hidden, width});
      }
      if (c.n_shared_experts > 0) {
        const int64_t shared = c.shared_intermediate_size();
        add(WeightRole::kSharedGate, l, -1, {shared, hidden});
        add(WeightRole::kSharedUp, l, -1, {shared, hidden});
        add(WeightRole::kSharedDown, l, -1, {hidden, shared});
      }
    } else {
      add(WeightRole::kFfnGate, l, -1, {c.intermediate_size, hidden});
      add(WeightRole::kFfnUp, l, -1, {c.intermediate_size, hidden});
      add(WeightRole::kFfnDown, l, -1, {hidden, c.intermediate_size});
    }
  }
  add(WeightRole::kOutputNorm, -1, -1, {hidden});
  if (!c.tie_word_embeddings) add(WeightRole::kOutput, -1, -1, {c.vocab_size, hidden});
  return specs;
}

}  // namespace dsmoe
