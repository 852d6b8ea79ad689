// The MLP of dense layers and the expert blocks of MoE layers.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/weights.h"

namespace dsmoe {

// SwiGLU: out = down(silu(gate(x)) * up(x)). x [n_tokens, hidden], out [n_tokens, hidden].
void feed_forward(const FeedForwardWeights& w, const float* x, int64_t n_tokens, float* out);

// Where each token went: [n_tokens, top_k] expert ids and the weights applied to their outputs.
struct Routing {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

// DeepseekMoEGate: softmax over the router logits, top-k, renormalised only when
// norm_topk_prob and top_k > 1 (w / (sum + 1e-20)).
Routing route_top_k(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens);

// DeepseekMoE (inference path): each routed expert runs over its tokens, in increasing expert id;
// outputs weighted by the gate and summed per token in that order; shared experts added last.
void moe_forward(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens, float* out,
                 Routing* routing_out);

}  // namespace dsmoe
