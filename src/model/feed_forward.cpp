#include "model/feed_forward.h"

#include <algorithm>

#include "ops/activation.h"
#include "ops/matmul.h"
#include "ops/softmax_topk.h"

namespace dsmoe {

void feed_forward(const FeedForwardWeights& w, const float* x, int64_t n_tokens, float* out) {
  const int64_t width = w.width();
  std::vector<float> gate(size_t(n_tokens * width));  // [n_tokens, width]
  std::vector<float> up(size_t(n_tokens * width));
  matmul_wt(x, n_tokens, w.gate_proj, gate.data());
  matmul_wt(x, n_tokens, w.up_proj, up.data());
  silu_mul(gate.data(), up.data(), n_tokens * width);
  matmul_wt(gate.data(), n_tokens, w.down_proj, out);
}

Routing route_top_k(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens) {
  const int64_t n_experts = config.n_routed_experts;
  const int64_t k = config.num_experts_per_tok;
  std::vector<float> scores(size_t(n_tokens * n_experts));  // [n_tokens, n_experts]
  matmul_wt(x, n_tokens, w.router, scores.data());
  Routing routing;
  routing.experts.resize(size_t(n_tokens * k));
  routing.weights.resize(size_t(n_tokens * k));
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* row = scores.data() + t * n_experts;
    softmax(row, n_experts);
    int32_t* experts = routing.experts.data() + t * k;
    float* weights = routing.weights.data() + t * k;
    top_k(row, n_experts, k, experts, weights);
    if (k > 1 && config.norm_topk_prob) {
      float sum = 0;
      for (int64_t j = 0; j < k; ++j) sum += weights[j];
      for (int64_t j = 0; j < k; ++j) weights[j] /= sum + 1e-20f;
    }
  }
  return routing;
}

void moe_forward(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens, float* out,
                 Routing* routing_out) {
  const int64_t hidden = config.hidden_size;
  const int64_t k = config.num_experts_per_tok;
  Routing routing = route_top_k(w, config, x, n_tokens);

  // Tokens per expert, in token order: (token, slot).
  std::vector<std::vector<std::pair<int64_t, int64_t>>> assigned(w.experts.size());
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t j = 0; j < k; ++j) assigned[size_t(routing.experts[size_t(t * k + j)])].push_back({t, j});
  }

  std::vector<float> routed(size_t(n_tokens * hidden), 0.0f);  // [n_tokens, hidden]
  std::vector<float> gathered;
  std::vector<float> expert_out;
  for (size_t e = 0; e < w.experts.size(); ++e) {
    const auto& tokens = assigned[e];
    if (tokens.empty()) continue;
    const int64_t n = int64_t(tokens.size());
    gathered.resize(size_t(n * hidden));  // [n, hidden]
    expert_out.resize(size_t(n * hidden));
    for (int64_t i = 0; i < n; ++i) {
      std::copy_n(x + tokens[size_t(i)].first * hidden, hidden, gathered.data() + i * hidden);
    }
    feed_forward(w.experts[e], gathered.data(), n, expert_out.data());
    for (int64_t i = 0; i < n; ++i) {
      const auto [t, slot] = tokens[size_t(i)];
      const float weight = routing.weights[size_t(t * k + slot)];
      float* dst = routed.data() + t * hidden;
      const float* src = expert_out.data() + i * hidden;
      for (int64_t h = 0; h < hidden; ++h) dst[h] += src[h] * weight;
    }
  }

  if (w.shared) {
    feed_forward(*w.shared, x, n_tokens, out);
    for (int64_t i = 0; i < n_tokens * hidden; ++i) out[i] = routed[size_t(i)] + out[i];
  } else {
    std::copy(routed.begin(), routed.end(), out);
  }
  if (routing_out != nullptr) *routing_out = std::move(routing);
}

}  // namespace dsmoe
