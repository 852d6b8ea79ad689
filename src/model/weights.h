// The model's tensors, bound by role from a WeightSource (src/model/weight_source.h). The struct tree mirrors
// HF's module tree (model.layers.N.mlp.experts.E.up_proj); the file formats' names live in src/loaders/.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor_view.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

struct AttentionWeights {
  TensorView q_proj;  // [n_heads * head_dim, hidden]
  TensorView k_proj;  // [n_kv_heads * head_dim, hidden]
  TensorView v_proj;  // [n_kv_heads * head_dim, hidden]
  TensorView o_proj;  // [hidden, n_heads * head_dim]
};

// One SwiGLU MLP: down(silu(gate(x)) * up(x)). Dense layers, each routed expert, the shared experts.
struct FeedForwardWeights {
  TensorView gate_proj;  // [width, hidden]
  TensorView up_proj;    // [width, hidden]
  TensorView down_proj;  // [hidden, width]
  int64_t width() const { return gate_proj.shape[0]; }
};

struct MoeWeights {
  TensorView router;                         // mlp.gate.weight [n_routed_experts, hidden]
  std::vector<FeedForwardWeights> experts;   // mlp.experts.E, width moe_intermediate_size
  std::optional<FeedForwardWeights> shared;  // mlp.shared_experts: one MLP n_shared * moe_intermediate wide
};

struct DecoderLayerWeights {
  TensorView input_layernorm;           // [hidden]
  TensorView post_attention_layernorm;  // [hidden]
  AttentionWeights self_attn;
  std::optional<FeedForwardWeights> mlp;  // dense layers
  std::optional<MoeWeights> moe;          // MoE layers
};

struct ModelWeights {
  TensorView embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  TensorView norm;     // [hidden]
  TensorView lm_head;  // [vocab, hidden]; the embedding when tie_word_embeddings
};

// Binds every tensor the config implies, checking each shape. A missing, misshapen or unexpected
// tensor is an Error naming the file, the tensor (the file's own name), the expected and the found shape.
ModelWeights bind_weights(const ModelConfig& config, const WeightSource& source);

// Interleaves in place, in groups of eight rows, every matrix-product weight whose format has an eight-row
// kernel (Q8_0, Q4_0, Q4_K, Q6_K) and whose rows come in whole groups, and marks its view (TensorView::row_groups).
// The embedding stays as it is (rows are looked up one by one), and so does an lm_head tied to it. The weights
// must lie in memory the model owns and may write (read into memory, not mapped from the file). Returns the
// bytes interleaved.
int64_t interleave_matmul_weights(ModelWeights& weights);

// The bytes of the model's weights as `source` stores them, by dtype name ("BF16" -> bytes): what inspect prints
// and ModelInfo sums. Call after bind_weights has found every tensor.
std::map<std::string, int64_t> weight_bytes_by_dtype(const ModelConfig& config, const WeightSource& source);

}  // namespace dsmoe
