// The MLP of dense layers and the expert blocks of MoE layers.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/weights.h"
#include "model/workspace.h"

namespace dsmoe {

// SwiGLU: out = down(silu(gate(x)) * up(x)). x [n_tokens, hidden], out [n_tokens, hidden].
void feed_forward(const FeedForwardWeights& w, const float* x, int64_t n_tokens, float* out, ForwardWorkspace& ws);

// Where each token went: [n_tokens, top_k] expert ids and the weights applied to their outputs.
struct Routing {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

// DeepseekMoEGate: softmax over the router logits, top-k, renormalised only when norm_topk_prob and top_k > 1
// (w / (sum + 1e-20)). Fills ws.route_experts and ws.route_weights [n_tokens, top_k].
void route_top_k(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens,
                 ForwardWorkspace& ws);

// DeepseekMoE (inference path): the tokens routed to each expert form one matrix product per expert, and all
// experts (and the shared experts) run in one parallel step; each token's outputs are weighted by the gate and
// summed in increasing expert id, shared experts added last (the order of HF's moe_infer).
void moe_forward(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens, float* out,
                 ForwardWorkspace& ws, Routing* routing_out);

}  // namespace dsmoe
