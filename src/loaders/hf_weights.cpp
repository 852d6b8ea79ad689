#include "loaders/hf_weights.h"

#include <set>

#include "core/errors.h"

namespace dsmoe {

std::string hf_tensor_name(const WeightKey& key) {
  const std::string layer = cat("model.layers.", key.layer);
  const std::string expert = cat(layer, ".mlp.experts.", key.expert);
  switch (key.role) {
    case WeightRole::kTokenEmbedding:
      return "model.embed_tokens.weight";
    case WeightRole::kOutputNorm:
      return "model.norm.weight";
    case WeightRole::kOutput:
      return "lm_head.weight";
    case WeightRole::kAttentionNorm:
      return layer + ".input_layernorm.weight";
    case WeightRole::kQuery:
      return layer + ".self_attn.q_proj.weight";
    case WeightRole::kKey:
      return layer + ".self_attn.k_proj.weight";
    case WeightRole::kValue:
      return layer + ".self_attn.v_proj.weight";
    case WeightRole::kAttentionOutput:
      return layer + ".self_attn.o_proj.weight";
    case WeightRole::kFfnNorm:
      return layer + ".post_attention_layernorm.weight";
    case WeightRole::kFfnGate:
      return layer + ".mlp.gate_proj.weight";
    case WeightRole::kFfnUp:
      return layer + ".mlp.up_proj.weight";
    case WeightRole::kFfnDown:
      return layer + ".mlp.down_proj.weight";
    case WeightRole::kRouter:
      return layer + ".mlp.gate.weight";
    case WeightRole::kExpertGate:
      return expert + ".gate_proj.weight";
    case WeightRole::kExpertUp:
      return expert + ".up_proj.weight";
    case WeightRole::kExpertDown:
      return expert + ".down_proj.weight";
    case WeightRole::kSharedGate:
      return layer + ".mlp.shared_experts.gate_proj.weight";
    case WeightRole::kSharedUp:
      return layer + ".mlp.shared_experts.up_proj.weight";
    case WeightRole::kSharedDown:
      return layer + ".mlp.shared_experts.down_proj.weight";
  }
  return "?";
}

std::optional<TensorView> HfWeightSource::find(const WeightKey& key) const {
  const TensorView* view = tensors_.find(hf_tensor_name(key));
  if (view == nullptr) return std::nullopt;
  return *view;
}

std::string HfWeightSource::origin(const WeightKey& key) const {
  const std::string name = hf_tensor_name(key);
  return tensors_.find(name) != nullptr ? tensors_.origin(name) : tensors_.location();
}

std::vector<std::string> HfWeightSource::unused_tensors(const std::vector<WeightKey>& bound) const {
  std::set<std::string> used;
  for (const WeightKey& key : bound) used.insert(hf_tensor_name(key));
  std::vector<std::string> extra;
  for (const auto& name : tensors_.names()) {
    // Old Llama checkpoints store the RoPE buffer; it is recomputed from the config.
    const bool rope_buffer = name.starts_with("model.layers.") && name.ends_with(".self_attn.rotary_emb.inv_freq");
    if (!used.count(name) && !rope_buffer) extra.push_back(name);
  }
  return extra;
}

ModelWeights bind_hf_weights(const ModelConfig& config, const TensorSource& tensors) {
  return bind_weights(config, HfWeightSource(tensors));
}

}  // namespace dsmoe
