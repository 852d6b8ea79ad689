// Causal scaled-dot-product attention over a KV cache, with grouped-query heads.
// Queries walk the cache in tiles of keys with an online softmax (a running maximum and sum, the partial output
// rescaled when the maximum grows): memory is a tile of scores and the tile's outputs per thread, whatever the
// context; the [S, S] score matrix never exists.
//   - Prefill (n_new >= kAttentionTileMinQueries): tiles of up to 32 queries of one head meet tiles of 64 keys
//     widened to float32 once (kernels/attention_tile.h), so each key is read once per query tile.
//   - Decode (fewer new positions): each query row meets the same tiles of keys widened to float32, one row at a
//     time. A context longer than kAttentionSplitKeys is cut into spans of that many keys, attended in parallel
//     and merged by their maxima and sums (split-K, as flash-decoding does): one long head keeps every thread busy.
// The spans and tiles depend only on the shape, never on the thread count: results are bit-identical for any.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace dsmoe {

struct AttentionShape {
  int64_t batch = 1;
  int64_t n_new = 1;  // query positions this call: past .. past + n_new - 1
  int64_t past = 0;   // positions already in the cache before this call
  int64_t n_heads = 1;
  int64_t n_kv_heads = 1;  // n_heads % n_kv_heads == 0; query head h reads kv head h / (n_heads / n_kv_heads)
  int64_t head_dim = 1;
  int64_t capacity = 1;  // positions the cache rows are laid out for
};

inline constexpr int64_t kMaxAttentionHeadDim = 1024;  // larger heads are refused (no model has them)
inline constexpr int64_t kAttentionTileMinQueries = 8;  // fewer new positions attend row by row
inline constexpr int64_t kAttentionSplitKeys = 4096;    // decode spans

// The partial results of split decode: reused from call to call (the session keeps one).
struct AttentionScratch {
  std::vector<float> partials;
};

// q   [batch, n_new, n_heads, head_dim]
// k,v [batch, n_kv_heads, capacity, head_dim], holding positions [0, past + n_new)
// out [batch, n_new, n_heads, head_dim]
// k,v rows (one head of one position) are stored as kv_type: F32, F16, BF16 or Q8_0 (head_dim % 32 == 0), and
// widened to float32 a tile at a time (an 8-bit cache only saves memory: its values are dequantized exactly).
void causal_attention(const float* q, const void* k_cache, const void* v_cache, DType kv_type,
                      const AttentionShape& shape, float scale, float* out, AttentionScratch& scratch);
void causal_attention(const float* q, const void* k_cache, const void* v_cache, DType kv_type,
                      const AttentionShape& shape, float scale, float* out);  // a scratch per thread
inline void causal_attention(const float* q, const float* k_cache, const float* v_cache, const AttentionShape& shape,
                             float scale, float* out) {
  causal_attention(q, k_cache, v_cache, DType::F32, shape, scale, out);
}

// The scalar twin: materialises each head's full score matrix with a -inf mask, in double.
void causal_attention_reference(const float* q, const float* k_cache, const float* v_cache, const AttentionShape& shape,
                                float scale, float* out);

}  // namespace dsmoe
