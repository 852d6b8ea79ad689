#include "model/attention_block.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/attention.h"
#include "ops/matmul.h"
#include "quant/quantize.h"
#include "dsmoe/rope/rope_apply.h"

namespace dsmoe {

void attention_block(const AttentionWeights& w, const ModelConfig& c, const RopeTable& rope, float softmax_scale,
                     int64_t layer, const float* x, int64_t batch, int64_t n_new, KvCache& cache, float* out) {
  const int64_t n_tokens = batch * n_new;
  const int64_t past = cache.length();
  const int64_t head_dim = c.head_dim;
  ForwardWorkspace& ws = cache.workspace;
  float* q = sized(ws.q, n_tokens * c.q_dim());   // [batch, n_new, n_heads, head_dim]
  float* k = sized(ws.k, n_tokens * c.kv_dim());  // [batch, n_new, n_kv_heads, head_dim]
  float* v = sized(ws.v, n_tokens * c.kv_dim());
  const MatmulJob qkv[] = {{x, n_tokens, &w.q_proj, q}, {x, n_tokens, &w.k_proj, k}, {x, n_tokens, &w.v_proj, v}};
  matmul_wt_batch(qkv, ws.matmul);

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
  float* context = sized(ws.context, n_tokens * c.q_dim());  // [batch, n_new, n_heads, head_dim]
  causal_attention(q, key_cache, value_cache, cache.type(), shape, softmax_scale / std::sqrt(float(head_dim)), context,
                   ws.attention);
  const MatmulJob o{context, n_tokens, &w.o_proj, out};
  matmul_wt(o, ws.matmul);
}

}  // namespace dsmoe
