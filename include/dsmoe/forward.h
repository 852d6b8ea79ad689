// What one forward pass can return besides logits: plain data, no internal types.
#pragma once

#include <cstdint>
#include <vector>

namespace dsmoe {

struct ForwardOptions {
  bool hidden_states = false;  // HF output_hidden_states: embeddings, layers 0..L-2, norm(layer L-1)
  bool routing = false;        // chosen experts and gate weights per MoE layer
  bool all_logits = true;      // false: only the last position of each row (generation)
};

// Tokens are laid out row-major: t = b * n_new + i for row b, new position i.
struct ForwardResult {
  int64_t batch = 0;
  int64_t n_new = 0;
  std::vector<float> logits;            // [batch, n_new, vocab], or [batch, 1, vocab] without all_logits
  std::vector<float> hidden_states;     // [n_layers + 1, batch, n_new, hidden]
  std::vector<int64_t> moe_layers;      // indices of the MoE layers, in order
  std::vector<int32_t> routed_experts;  // [moe_layers, batch, n_new, top_k], by decreasing weight
  std::vector<float> routed_weights;    // same shape: the gate weights applied to the experts' outputs
};

}  // namespace dsmoe
