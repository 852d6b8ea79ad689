// The buffers of a forward pass, kept by the session (KvCache) and reused from call to call: each grows to the
// largest call it has served and never shrinks, so a decode step allocates nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "core/sized.h"
#include "ops/attention.h"
#include "ops/matmul.h"

namespace dsmoe {

struct ForwardWorkspace {
  std::vector<int32_t> tokens;  // one chunk of a long prompt
  // The residual stream, its normed copy and the branch added back: [n_tokens, hidden].
  std::vector<float> x, normed, branch;
  // Attention: q [n_tokens, q_dim], k and v [n_tokens, kv_dim], the heads' outputs [n_tokens, q_dim].
  std::vector<float> q, k, v, context;
  AttentionScratch attention;  // split decode's partial results
  // Routing: router probabilities [n_tokens, n_experts], chosen experts and weights [n_tokens, top_k], and the
  // (token, slot) pairs grouped by expert with where each expert's group starts.
  std::vector<float> router_probs, route_weights;
  std::vector<int32_t> route_experts, grouped, group_start;
  // Feed-forward: the tokens gathered per expert, the products, the outputs ([rows, width] or [rows, hidden]).
  std::vector<float> gathered, gate, up, expert_out, shared_gate, shared_up, routed;
  std::vector<float> last;  // the last position of each row, for the logits
  std::vector<MatmulJob> jobs;
  MatmulScratch matmul;
};

}  // namespace dsmoe
