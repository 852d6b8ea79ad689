// DeepseekAttention / LlamaAttention: project, rotate, cache, attend, project back.
#pragma once

#include <cstdint>
#include <span>

#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "dsmoe/rope/rope_table.h"

namespace dsmoe {

// x [batch * n_new, hidden] (token t = b * n_new + i sits at position cache.length() + i);
// out [batch * n_new, hidden]. Writes this call's keys (after RoPE) and values into the cache. The cache's
// rope_table holds cos/sin of this call's positions, and its rope_frequencies the softmax scale's factor (1 but
// for DeepSeek-V2's YaRN).
void attention_block(const AttentionWeights& w, const ModelConfig& config, int64_t layer, const float* x,
                     int64_t batch, int64_t n_new, KvCache& cache, float* out);

// One new token for each of several caches (continuous batching: x [caches.size(), hidden], token i continuing
// caches[i] of one row): the projections run once over every token, rotation and attention per cache.
void attention_block_caches(const AttentionWeights& w, const ModelConfig& config, int64_t layer, const float* x,
                            std::span<KvCache* const> caches, ForwardWorkspace& ws, float* out);

}  // namespace dsmoe
