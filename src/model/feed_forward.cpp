#include "model/feed_forward.h"

#include <algorithm>

#include "ops/activation.h"
#include "ops/matmul.h"
#include "ops/softmax_topk.h"

namespace dsmoe {

void feed_forward(const FeedForwardWeights& w, const float* x, int64_t n_tokens, float* out, ForwardWorkspace& ws) {
  const int64_t width = w.width();
  float* gate = sized(ws.gate, n_tokens * width);  // [n_tokens, width]
  float* up = sized(ws.up, n_tokens * width);
  const MatmulJob gate_up[] = {{x, n_tokens, &w.gate_proj, gate}, {x, n_tokens, &w.up_proj, up}};
  matmul_wt_batch(gate_up, ws.matmul);
  silu_mul(gate, up, n_tokens * width);
  const MatmulJob down{gate, n_tokens, &w.down_proj, out};
  matmul_wt(down, ws.matmul);
}

void route_top_k(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens,
                 ForwardWorkspace& ws) {
  const int64_t n_experts = config.n_routed_experts;
  const int64_t k = config.num_experts_per_tok;
  float* probs = sized(ws.router_probs, n_tokens * n_experts);  // [n_tokens, n_experts]
  matmul_wt(MatmulJob{x, n_tokens, &w.router, probs}, ws.matmul);
  int32_t* chosen = sized(ws.route_experts, n_tokens * k);
  float* weights = sized(ws.route_weights, n_tokens * k);
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* row = probs + t * n_experts;
    softmax(row, n_experts);
    top_k(row, n_experts, k, chosen + t * k, weights + t * k);
    if (k > 1 && config.norm_topk_prob) {
      float sum = 0;
      for (int64_t j = 0; j < k; ++j) sum += weights[t * k + j];
      for (int64_t j = 0; j < k; ++j) weights[t * k + j] /= sum + 1e-20f;
    }
  }
}

namespace {

// Groups the n_tokens * k (token, slot) pairs by expert, in token order within an expert (a counting sort):
// pair p = t * k + slot; the pairs of expert e are grouped[group_start[e] .. group_start[e + 1]).
void group_by_expert(const int32_t* chosen, int64_t pairs, int64_t n_experts, ForwardWorkspace& ws) {
  int32_t* start = sized(ws.group_start, n_experts + 1);
  std::fill(start, start + n_experts + 1, 0);
  for (int64_t p = 0; p < pairs; ++p) ++start[chosen[p] + 1];
  for (int64_t e = 0; e < n_experts; ++e) start[e + 1] += start[e];
  int32_t* grouped = sized(ws.grouped, pairs);
  for (int64_t p = 0; p < pairs; ++p) grouped[start[chosen[p]]++] = int32_t(p);
  for (int64_t e = n_experts; e > 0; --e) start[e] = start[e - 1];  // undo the increments
  start[0] = 0;
}

}  // namespace

void moe_forward(const MoeWeights& w, const ModelConfig& config, const float* x, int64_t n_tokens, float* out,
                 ForwardWorkspace& ws, Routing* routing_out) {
  const int64_t hidden = config.hidden_size;
  const int64_t k = config.num_experts_per_tok;
  const int64_t n_experts = int64_t(w.experts.size());
  const int64_t pairs = n_tokens * k;
  route_top_k(w, config, x, n_tokens, ws);
  group_by_expert(ws.route_experts.data(), pairs, n_experts, ws);
  const int32_t* grouped = ws.grouped.data();
  const int32_t* start = ws.group_start.data();

  // Row r of `gathered` is the token of pair grouped[r]: each expert's tokens are one contiguous matrix.
  float* gathered = sized(ws.gathered, pairs * hidden);
  for (int64_t r = 0; r < pairs; ++r) std::copy_n(x + (grouped[r] / k) * hidden, hidden, gathered + r * hidden);
  const int64_t width = config.moe_intermediate_size;
  float* gate = sized(ws.gate, pairs * width);
  float* up = sized(ws.up, pairs * width);
  float* expert_out = sized(ws.expert_out, pairs * hidden);
  const int64_t shared_width = w.shared ? w.shared->width() : 0;
  float* shared_gate = sized(ws.shared_gate, n_tokens * shared_width);
  float* shared_up = sized(ws.shared_up, n_tokens * shared_width);

  // gate and up of every expert that has tokens, and of the shared experts, in one parallel step.
  ws.jobs.clear();
  for (int64_t e = 0; e < n_experts; ++e) {
    const int64_t rows = start[e + 1] - start[e];
    if (rows == 0) continue;
    const float* in = gathered + start[e] * hidden;
    ws.jobs.push_back({in, rows, &w.experts[size_t(e)].gate_proj, gate + start[e] * width});
    ws.jobs.push_back({in, rows, &w.experts[size_t(e)].up_proj, up + start[e] * width});
  }
  if (w.shared) {
    ws.jobs.push_back({x, n_tokens, &w.shared->gate_proj, shared_gate});
    ws.jobs.push_back({x, n_tokens, &w.shared->up_proj, shared_up});
  }
  matmul_wt_batch(ws.jobs, ws.matmul);
  silu_mul(gate, up, pairs * width);
  if (w.shared) silu_mul(shared_gate, shared_up, n_tokens * shared_width);

  // down of each: the experts' outputs per pair row, the shared experts' straight into `out`.
  ws.jobs.clear();
  for (int64_t e = 0; e < n_experts; ++e) {
    const int64_t rows = start[e + 1] - start[e];
    if (rows == 0) continue;
    ws.jobs.push_back({gate + start[e] * width, rows, &w.experts[size_t(e)].down_proj, expert_out + start[e] * hidden});
  }
  if (w.shared) ws.jobs.push_back({shared_gate, n_tokens, &w.shared->down_proj, out});
  matmul_wt_batch(ws.jobs, ws.matmul);

  // out = (sum over the token's experts, in increasing id, of weight * expert output) + shared output.
  float* routed = sized(ws.routed, n_tokens * hidden);
  std::fill(routed, routed + n_tokens * hidden, 0.0f);
  for (int64_t r = 0; r < pairs; ++r) {
    const int64_t p = grouped[r];
    const float weight = ws.route_weights[size_t(p)];
    float* dst = routed + (p / k) * hidden;
    const float* src = expert_out + r * hidden;
    for (int64_t h = 0; h < hidden; ++h) dst[h] += src[h] * weight;
  }
  if (w.shared) {
    for (int64_t i = 0; i < n_tokens * hidden; ++i) out[i] = routed[i] + out[i];
  } else {
    std::copy_n(routed, n_tokens * hidden, out);
  }
  if (routing_out != nullptr) {
    routing_out->experts.assign(ws.route_experts.begin(), ws.route_experts.begin() + pairs);
    routing_out->weights.assign(ws.route_weights.begin(), ws.route_weights.begin() + pairs);
  }
}

}  // namespace dsmoe
