// A random tiny model held in memory, for tests that drive the C++ forward pass directly.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "io/tensor_store.h"
#include "model/config.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace dsmoe::testing {

// A DeepSeek config of the given sizes; tests override keys as they need.
inline nlohmann::json tiny_deepseek_json() {
  return {{"model_type", "deepseek"}, {"vocab_size", 53},
          {"hidden_size", 32},        {"intermediate_size", 48},
          {"num_hidden_layers", 3},   {"num_attention_heads", 4},
          {"num_key_value_heads", 4}, {"moe_intermediate_size", 16},
          {"n_routed_experts", 6},    {"n_shared_experts", 1},
          {"num_experts_per_tok", 2}, {"first_k_dense_replace", 1},
          {"moe_layer_freq", 1},      {"max_position_embeddings", 16},
          {"rms_norm_eps", 1e-6},     {"rope_theta", 10000.0}};
}

// Owns the float32 buffers behind every tensor the config needs.
class RandomModel {
 public:
  RandomModel(const nlohmann::json& config_json, uint32_t seed) {
    config_ = parse_model_config(config_json, "<test config>");
    std::mt19937 rng(seed);
    const ModelConfig& c = config_;
    const int64_t h = c.hidden_size;
    add("model.embed_tokens.weight", {c.vocab_size, h}, 1.0f, rng);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      const std::string layer = "model.layers." + std::to_string(i);
      add(layer + ".input_layernorm.weight", {h}, 0.0f, rng);
      add(layer + ".post_attention_layernorm.weight", {h}, 0.0f, rng);
      add(layer + ".self_attn.q_proj.weight", {c.q_dim(), h}, 1.0f, rng);
      add(layer + ".self_attn.k_proj.weight", {c.kv_dim(), h}, 1.0f, rng);
      add(layer + ".self_attn.v_proj.weight", {c.kv_dim(), h}, 1.0f, rng);
      add(layer + ".self_attn.o_proj.weight", {h, c.q_dim()}, 1.0f, rng);
      if (c.is_moe_layer(i)) {
        add(layer + ".mlp.gate.weight", {c.n_routed_experts, h}, 2.0f, rng);
        for (int64_t e = 0; e < c.n_routed_experts; ++e) {
          add_ffn(layer + ".mlp.experts." + std::to_string(e), h, c.moe_intermediate_size, rng);
        }
        if (c.n_shared_experts > 0) add_ffn(layer + ".mlp.shared_experts", h, c.shared_intermediate_size(), rng);
      } else {
        add_ffn(layer + ".mlp", h, c.intermediate_size, rng);
      }
    }
    add("model.norm.weight", {h}, 0.0f, rng);
    if (!c.tie_word_embeddings) add("lm_head.weight", {c.vocab_size, h}, 1.0f, rng);
  }

  const ModelConfig& config() const { return config_; }
  const MemoryStore& store() const { return store_; }
  Transformer transformer() const { return Transformer(config_, bind_weights(config_, store_)); }

 private:
  // scale 0: a norm weight near 1; otherwise normal(0, scale / sqrt(fan_in)).
  void add(const std::string& name, std::vector<int64_t> shape, float scale, std::mt19937& rng) {
    auto& buffer = buffers_[name];
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    buffer.resize(static_cast<size_t>(n));
    const float fan_in = float(shape.back());
    std::normal_distribution<float> normal(0.0f, scale == 0.0f ? 0.1f : scale / std::sqrt(fan_in));
    for (float& v : buffer) v = (scale == 0.0f ? 1.0f : 0.0f) + normal(rng);
    TensorView view;
    view.dtype = DType::F32;
    view.shape = std::move(shape);
    view.data = buffer.data();
    store_.add(name, view);
  }
  void add_ffn(const std::string& prefix, int64_t hidden, int64_t width, std::mt19937& rng) {
    add(prefix + ".gate_proj.weight", {width, hidden}, 1.0f, rng);
    add(prefix + ".up_proj.weight", {width, hidden}, 1.0f, rng);
    add(prefix + ".down_proj.weight", {hidden, width}, 1.0f, rng);
  }

  ModelConfig config_;
  std::map<std::string, std::vector<float>> buffers_;
  MemoryStore store_;
};

inline std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> pick(0, int32_t(vocab - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (auto& t : tokens) t = pick(rng);
  return tokens;
}

// A fresh seed per run (printed by the test on failure) so repeated runs cover new inputs.
inline uint32_t fresh_seed() { return std::random_device{}(); }

}  // namespace dsmoe::testing
