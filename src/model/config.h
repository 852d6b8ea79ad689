// The model's typed configuration. HF config.json is read by src/loaders/hf_config, GGUF metadata by
// src/loaders/gguf_config; both give this struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "dsmoe/rope/rope.h"

namespace dsmoe {

enum class Architecture { kDeepseek, kLlama };

struct ModelConfig {
  Architecture architecture = Architecture::kDeepseek;
  std::string model_type;  // "deepseek" or "llama"

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // dense MLP width
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // absent: num_attention_heads
  int64_t head_dim = 0;             // absent: hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t rotary_dim = 0;  // head_dim * partial_rotary_factor (even); the rest of each head is not rotated
  RopePairing rope_pairing = RopePairing::kRotateHalf;  // HF safetensors: rotate-half; set by the file format
  RopeDynamicPolicy rope_dynamic_policy = RopeDynamicPolicy::kGrowWithCache;
  double rms_norm_eps = 1e-6;
  bool attention_bias = false;
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  std::optional<DType> torch_dtype;

  // Mixture of experts (DeepSeek). n_routed_experts == 0 means a dense model.
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;  // null and 0 both mean none
  int64_t moe_intermediate_size = 1407;
  int64_t num_experts_per_tok = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  bool norm_topk_prob = false;

  std::vector<std::string> unknown_keys;  // noted, not fatal: real checkpoints carry many

  // HF DeepseekDecoderLayer: MoE iff experts exist, layer >= first_k_dense_replace and
  // layer % moe_layer_freq == 0 (not (layer - k) % freq).
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
  int64_t shared_intermediate_size() const { return n_shared_experts * moe_intermediate_size; }
  RopeParams rope_params() const;
};

// The invariants the model relies on, for configs that did not come through config.json's reader (GGUF
// metadata, command-line changes): an Error naming `source` and the quantity.
void validate_model_config(const ModelConfig& config, const std::string& source);

}  // namespace dsmoe
