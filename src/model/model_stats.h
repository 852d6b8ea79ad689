// Parameter and memory arithmetic from the config alone (no weights needed).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace dsmoe {

struct ParameterCounts {
  int64_t embedding = 0;  // embed_tokens
  int64_t attention = 0;  // all layers: q, k, v, o
  int64_t norms = 0;      // all RMSNorm weights
  int64_t dense_mlp = 0;  // dense layers' MLPs
  int64_t routers = 0;    // MoE gates
  int64_t routed_experts = 0;
  int64_t shared_experts = 0;
  int64_t lm_head = 0;  // 0 when tied to the embedding
  int64_t total = 0;
  // Per token: every weight but the routed experts, plus top_k of them in each MoE layer. The
  // embedding is a row lookup; it is counted in active_with_embedding only.
  int64_t active = 0;
  int64_t active_with_embedding = 0;
};

ParameterCounts count_parameters(const ModelConfig& config);

int64_t feed_forward_parameters(int64_t hidden, int64_t width);  // gate + up + down
int64_t attention_parameters(const ModelConfig& config);         // one layer
int64_t moe_layer_count(const ModelConfig& config);

// Keys and values of one position across all layers, at `bytes_per_value` each.
int64_t kv_cache_bytes_per_token(const ModelConfig& config, int64_t bytes_per_value);

}  // namespace dsmoe
