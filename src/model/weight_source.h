// The model's weights named by their role, not by any file's spelling. A file format (src/loaders/) maps each
// WeightKey to a tensor of its own: HF names "model.layers.3.mlp.experts.5.up_proj.weight", GGUF names
// "blk.3.ffn_up_exps.weight" sliced at expert 5. The model binds from a WeightSource and never sees a name, so a
// third format adds a loader, not a change to the model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor_view.h"
#include "model/config.h"

namespace dsmoe {

enum class WeightRole {
  kTokenEmbedding,   // [vocab, hidden]
  kOutputNorm,       // [hidden]
  kOutput,           // lm_head [vocab, hidden]
  kAttentionNorm,    // input_layernorm [hidden]
  kQuery,            // [heads * head_dim, hidden]
  kKey,              // [kv_heads * head_dim, hidden]
  kValue,            // [kv_heads * head_dim, hidden]
  kAttentionOutput,  // [hidden, heads * head_dim]
  kFfnNorm,          // post_attention_layernorm [hidden]
  kFfnGate,          // dense MLP [intermediate, hidden]
  kFfnUp,            // [intermediate, hidden]
  kFfnDown,          // [hidden, intermediate]
  kRouter,           // MoE gate [n_routed_experts, hidden]
  kExpertGate,       // routed expert e [moe_intermediate, hidden]
  kExpertUp,         // [moe_intermediate, hidden]
  kExpertDown,       // [hidden, moe_intermediate]
  kSharedGate,       // shared experts as one MLP [n_shared * moe_intermediate, hidden]
  kSharedUp,
  kSharedDown,
};

struct WeightKey {
  WeightRole role = WeightRole::kTokenEmbedding;
  int64_t layer = -1;   // -1 outside the layers
  int64_t expert = -1;  // routed experts only

  bool operator==(const WeightKey&) const = default;
  auto operator<=>(const WeightKey&) const = default;
};

std::string_view weight_role_name(WeightRole role);  // "expert_up"
std::string describe(const WeightKey& key);          // "layer 3 expert 5 expert_up"

// One tensor the config implies, with the shape the model expects (outermost first, [out, in] for matrices).
struct WeightSpec {
  WeightKey key;
  std::vector<int64_t> shape;
  bool is_norm() const { return shape.size() == 1; }
};

// Every tensor of `config` in the model's order: embedding, each layer (attention, then dense MLP or router,
// routed experts by id, shared experts), final norm, then the output matrix unless tied.
std::vector<WeightSpec> weight_specs(const ModelConfig& config);

// Where the model's weights come from. Implementations own (or borrow) the file's memory.
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // The tensor for `key` shaped as the file stores it (the binder checks the shape); nullopt when absent.
  virtual std::optional<TensorView> find(const WeightKey& key) const = 0;
  virtual std::string tensor_name(const WeightKey& key) const = 0;          // the file's name for it, for messages
  virtual std::string origin(const WeightKey& key) const = 0;               // the file that holds (or should hold) it
  virtual std::string origin_of(const std::string& tensor_name) const = 0;  // the file holding a named tensor
  // The file's tensors that none of `bound` uses: a model with unexpected tensors is refused.
  virtual std::vector<std::string> unused_tensors(const std::vector<WeightKey>& bound) const = 0;
};

}  // namespace dsmoe
