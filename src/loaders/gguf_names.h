// llama.cpp's names for the model's weights in a GGUF file ("blk.3.ffn_up_exps.weight"), and its metadata keys
// for the two architectures dsmoe runs: "deepseek" (DeepSeek-MoE v1) and "llama".
#pragma once

#include <string>

#include "model/weight_source.h"

namespace dsmoe {

// The GGUF tensor holding `key`. Routed experts live stacked in one 3-D tensor per layer and projection
// (ggml ne {in, out, n_experts}, i.e. [n_experts, out, in] outermost first), so every expert of a layer shares
// a name; key.expert selects the slice.
std::string gguf_tensor_name(const WeightKey& key);

inline bool is_stacked_expert(WeightRole role) {
  return role == WeightRole::kExpertGate || role == WeightRole::kExpertUp || role == WeightRole::kExpertDown;
}

}  // namespace dsmoe
