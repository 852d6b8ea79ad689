#include "loaders/gguf_names.h"

#include "core/errors.h"

namespace dsmoe {

std::string gguf_tensor_name(const WeightKey& key) {
  const std::string block = cat("blk.", key.layer, ".");
  switch (key.role) {
    case WeightRole::kTokenEmbedding:
      return "token_embd.weight";
    case WeightRole::kOutputNorm:
      return "output_norm.weight";
    case WeightRole::kOutput:
      return "output.weight";
    case WeightRole::kAttentionNorm:
      return block + "attn_norm.weight";
    case WeightRole::kQuery:
      return block + "attn_q.weight";
    case WeightRole::kKey:
      return block + "attn_k.weight";
    case WeightRole::kValue:
      return block + "attn_v.weight";
    case WeightRole::kAttentionOutput:
      return block + "attn_output.weight";
    case WeightRole::kFfnNorm:
      return block + "ffn_norm.weight";
    case WeightRole::kFfnGate:
      return block + "ffn_gate.weight";
    case WeightRole::kFfnUp:
      return block + "ffn_up.weight";
    case WeightRole::kFfnDown:
      return block + "ffn_down.weight";
    case WeightRole::kRouter:
      return block + "ffn_gate_inp.weight";
    case WeightRole::kExpertGate:
      return block + "ffn_gate_exps.weight";
    case WeightRole::kExpertUp:
      return block + "ffn_up_exps.weight";
    case WeightRole::kExpertDown:
      return block + "ffn_down_exps.weight";
    case WeightRole::kSharedGate:
      return block + "ffn_gate_shexp.weight";
    case WeightRole::kSharedUp:
      return block + "ffn_up_shexp.weight";
    case WeightRole::kSharedDown:
      return block + "ffn_down_shexp.weight";
  }
  return "?";
}

}  // namespace dsmoe
