#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "core/errors.h"
#include "kernels/row_dot.h"
#include "quant/vec_dot.h"

namespace dsmoe {

namespace {

constexpr int64_t kKeysPerTile = 64;

}  // namespace

void causal_attention(const float* q, const void* k_cache, const void* v_cache, DType kv_type,
                      const AttentionShape& s, float scale, float* out) {
  if (s.head_dim > kMaxAttentionHeadDim) {
    fail("attention: head_dim ", s.head_dim, " is larger than the supported ", kMaxAttentionHeadDim);
  }
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t rows = s.batch * s.n_new * s.n_heads;
  const size_t row_bytes = dtype_row_bytes(kv_type, s.head_dim);
  const RowKernels& kernels = row_kernels();
  const RowDotFn dot = kernels.row_dot[int(kv_type)];
  const RowAxpyFn axpy = kernels.row_axpy[int(kv_type)];
  // An 8-bit cache dots keys with the query quantized to the matching activation format, as a weight would.
  const bool quantized = is_block_format(kv_type);
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    alignas(64) float acc[kMaxAttentionHeadDim];
    alignas(64) unsigned char quantized_query[kMaxAttentionHeadDim / 32 * 36];
    float scores[kKeysPerTile];
    for (int64_t row = begin; row < end; ++row) {
      const int64_t h = row % s.n_heads;
      const int64_t i = (row / s.n_heads) % s.n_new;
      const int64_t b = row / (s.n_heads * s.n_new);
      const int64_t kv_row = (b * s.n_kv_heads + h / group) * s.capacity;
      const float* query = q + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
      const auto* keys = static_cast<const unsigned char*>(k_cache) + size_t(kv_row) * row_bytes;
      const auto* values = static_cast<const unsigned char*>(v_cache) + size_t(kv_row) * row_bytes;
      const int64_t n_keys = s.past + i + 1;  // causal: this query sees positions 0 .. past + i
      const void* query_row = query;
      if (quantized) {
        quantize_activation_row(kv_type, query, quantized_query, s.head_dim);
        query_row = quantized_query;
      }

      float running_max = -std::numeric_limits<float>::infinity();
      float running_sum = 0;
      std::fill(acc, acc + s.head_dim, 0.0f);
      for (int64_t j0 = 0; j0 < n_keys; j0 += kKeysPerTile) {
        const int64_t tile = std::min(kKeysPerTile, n_keys - j0);
        float tile_max = running_max;
        for (int64_t j = 0; j < tile; ++j) {
          dot(keys + size_t(j0 + j) * row_bytes, query_row, 0, 1, s.head_dim, &scores[j]);
          scores[j] *= scale;
          tile_max = std::max(tile_max, scores[j]);
        }
        // A larger maximum rescales what was summed so far (exp of the old maximum against the new one).
        if (tile_max > running_max) {
          const float rescale = std::exp(running_max - tile_max);
          running_sum *= rescale;
          for (int64_t d = 0; d < s.head_dim; ++d) acc[d] *= rescale;
          running_max = tile_max;
        }
        for (int64_t j = 0; j < tile; ++j) {
          const float p = std::exp(scores[j] - running_max);
          running_sum += p;
          axpy(p, values + size_t(j0 + j) * row_bytes, acc, s.head_dim);
        }
      }
      float* dst = out + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
      const float inv_sum = 1.0f / running_sum;
      for (int64_t d = 0; d < s.head_dim; ++d) dst[d] = acc[d] * inv_sum;
    }
  });
}

void causal_attention_reference(const float* q, const float* k_cache, const float* v_cache, const AttentionShape& s,
                                float scale, float* out) {
  const int64_t total = s.past + s.n_new;
  const int64_t group = s.n_heads / s.n_kv_heads;
  std::vector<double> scores(size_t(s.n_new * total));
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const float* keys = k_cache + (b * s.n_kv_heads + h / group) * s.capacity * s.head_dim;
      const float* values = v_cache + (b * s.n_kv_heads + h / group) * s.capacity * s.head_dim;
      for (int64_t i = 0; i < s.n_new; ++i) {
        const float* query = q + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
        double max_score = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < total; ++j) {
          double score = -std::numeric_limits<double>::infinity();  // the causal mask
          if (j <= s.past + i) {
            score = 0;
            for (int64_t d = 0; d < s.head_dim; ++d) score += double(query[d]) * keys[j * s.head_dim + d];
            score *= scale;
          }
          scores[size_t(i * total + j)] = score;
          max_score = std::max(max_score, score);
        }
        double sum = 0;
        for (int64_t j = 0; j < total; ++j) sum += std::exp(scores[size_t(i * total + j)] - max_score);
        float* dst = out + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
        for (int64_t d = 0; d < s.head_dim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < total; ++j) {
            acc += std::exp(scores[size_t(i * total + j)] - max_score) / sum * values[j * s.head_dim + d];
          }
          dst[d] = float(acc);
        }
      }
    }
  }
}

}  // namespace dsmoe
