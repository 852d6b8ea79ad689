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
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "loaders/random_weights.h"
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

// A parsed config with random float32 weights behind it.
class RandomModel {
 public:
  RandomModel(const nlohmann::json& config_json, uint32_t seed)
      : config_(parse_model_config(config_json, "<test config>")), weights_(config_, DType::F32, seed) {}

  const ModelConfig& config() const { return config_; }
  const MemoryStore& store() const { return weights_.store(); }
  Transformer transformer() const { return Transformer(config_, bind_hf_weights(config_, weights_.store())); }

 private:
  ModelConfig config_;
  RandomWeights weights_;
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
