// DeepseekAttention / LlamaAttention: project, rotate, cache, attend, project back.
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "dsmoe/rope/rope_table.h"

namespace dsmoe {

// x [batch * n_new, hidden] (token t = b * n_new + i sits at position cache.length() + i);
// out [batch * n_new, hidden]. Writes this call's keys (after RoPE) and values into the cache. rope holds cos/sin
// of this call's positions; softmax_scale multiplies 1/sqrt(head_dim) (1 but for DeepSeek-V2's YaRN).
void attention_block(const AttentionWeights& w, const ModelConfig& config, const RopeTable& rope,
                     float softmax_scale, int64_t layer, const float* x, int64_t batch, int64_t n_new, KvCache& cache,
                     float* out);

}  // namespace dsmoe
