#include "model/attention_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/attention.h"
#include "ops/matmul.h"
#include "quant/quantize.h"
#include "dsmoe/rope/rope_apply.h"

namespace dsmoe {

namespace {

// Rotates the queries and keys of `cache`'s new tokens, writes keys and values into it and attends over it:
// q, k, v and context hold this cache's batch * n_new tokens (row b's at [b * n_new, (b + 1) * n_new)), which sit
// at positions cache.length() + i.
void rotate_store_attend(const ModelConfig& c, int64_t layer, float* q, float* k, const float* v, int64_t batch,
                         int64_t n_new, KvCache& cache, float* context, AttentionScratch& scratch) {
  const RopeTable& rope = cache.rope_table;
  const int64_t n_tokens = batch * n_new;
  const int64_t past = cache.length();
  const int64_t head_dim = c.head_dim;
  unsigned char* key_cache = cache.keys(layer);  // rows [batch, n_kv_heads, capacity] of head_dim values
  unsigned char* value_cache = cache.values(layer);
  const size_t row_bytes = cache.row_bytes();
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t b = t / n_new;
    const int64_t position = past + t % n_new;
    float* q_t = q + t * c.q_dim();
    float* k_t = k + t * c.kv_dim();
    rope_apply(q_t, c.num_attention_heads, head_dim, rope.cos(position), rope.sin(position), c.rotary_dim,
               c.rope_pairing);
    rope_apply(k_t, c.num_key_value_heads, head_dim, rope.cos(position), rope.sin(position), c.rotary_dim,
               c.rope_pairing);
    // HF caches keys after rotation, so a decoded step never re-rotates the past.
    for (int64_t h = 0; h < c.num_key_value_heads; ++h) {
      const size_t slot = size_t((b * c.num_key_value_heads + h) * cache.capacity() + position) * row_bytes;
      quantize_row(cache.type(), k_t + h * head_dim, key_cache + slot, head_dim);
      quantize_row(cache.type(), v + t * c.kv_dim() + h * head_dim, value_cache + slot, head_dim);
    }
  }
  AttentionShape shape;
  shape.batch = batch;
  shape.n_new = n_new;
  shape.past = past;
  shape.n_heads = c.num_attention_heads;
  shape.n_kv_heads = c.num_key_value_heads;
  shape.head_dim = head_dim;
  shape.capacity = cache.capacity();
  const float scale = cache.rope_frequencies.softmax_scale / std::sqrt(float(head_dim));
  causal_attention(q, key_cache, value_cache, cache.type(), shape, scale, context, scratch);
}

}  // namespace

void attention_block(const AttentionWeights& w, const ModelConfig& c, int64_t layer, const float* x, int64_t batch,
                     int64_t n_new, KvCache& cache, float* out) {
  const int64_t n_tokens = batch * n_new;
  ForwardWorkspace& ws = cache.workspace;
  float* q = sized(ws.q, n_tokens * c.q_dim());   // [batch, n_new, n_heads, head_dim]
  float* k = sized(ws.k, n_tokens * c.kv_dim());  // [batch, n_new, n_kv_heads, head_dim]
  float* v = sized(ws.v, n_tokens * c.kv_dim());
  const MatmulJob qkv[] = {{x, n_tokens, &w.q_proj, q}, {x, n_tokens, &w.k_proj, k}, {x, n_tokens, &w.v_proj, v}};
  matmul_wt_batch(qkv, ws.matmul);
  float* context = sized(ws.context, n_tokens * c.q_dim());  // [batch, n_new, n_heads, head_dim]
  rotate_store_attend(c, layer, q, k, v, batch, n_new, cache, context, ws.attention);
  matmul_wt(MatmulJob{context, n_tokens, &w.o_proj, out}, ws.matmul);
}

void attention_block_caches(const AttentionWeights& w, const ModelConfig& c, int64_t layer, const float* x,
                            std::span<KvCache* const> caches, ForwardWorkspace& ws, float* out) {
  const auto n_tokens = int64_t(caches.size());
  float* q = sized(ws.q, n_tokens * c.q_dim());
  float* k = sized(ws.k, n_tokens * c.kv_dim());
  float* v = sized(ws.v, n_tokens * c.kv_dim());
  const MatmulJob qkv[] = {{x, n_tokens, &w.q_proj, q}, {x, n_tokens, &w.k_proj, k}, {x, n_tokens, &w.v_proj, v}};
  matmul_wt_batch(qkv, ws.matmul);  // the weights read once for every cache's token
  float* context = sized(ws.context, n_tokens * c.q_dim());
  for (int64_t i = 0; i < n_tokens; ++i) {
    rotate_store_attend(c, layer, q + i * c.q_dim(), k + i * c.kv_dim(), v + i * c.kv_dim(), 1, 1,
                        *caches[size_t(i)], context + i * c.q_dim(), ws.attention);
  }
  matmul_wt(MatmulJob{context, n_tokens, &w.o_proj, out}, ws.matmul);
}

}  // namespace dsmoe
