#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "ops/matmul.h"

namespace dsmoe {

void causal_attention(const float* q, const float* k_cache, const float* v_cache, const AttentionShape& s, float scale,
                      float* out) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t rows = s.batch * s.n_new * s.n_heads;
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(size_t(s.past + s.n_new));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t h = row % s.n_heads;
      const int64_t i = (row / s.n_heads) % s.n_new;
      const int64_t b = row / (s.n_heads * s.n_new);
      const int64_t kv_head = h / group;
      const float* query = q + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
      const float* keys = k_cache + (b * s.n_kv_heads + kv_head) * s.capacity * s.head_dim;
      const float* values = v_cache + (b * s.n_kv_heads + kv_head) * s.capacity * s.head_dim;
      const int64_t n_keys = s.past + i + 1;  // causal: this query sees positions 0 .. past + i

      float max_score = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < n_keys; ++j) {
        scores[size_t(j)] = dot_f32(query, keys + j * s.head_dim, s.head_dim) * scale;
        max_score = std::max(max_score, scores[size_t(j)]);
      }
      float sum = 0;
      for (int64_t j = 0; j < n_keys; ++j) {
        scores[size_t(j)] = std::exp(scores[size_t(j)] - max_score);
        sum += scores[size_t(j)];
      }
      float* dst = out + ((b * s.n_new + i) * s.n_heads + h) * s.head_dim;
      std::fill(dst, dst + s.head_dim, 0.0f);
      const float inv_sum = 1.0f / sum;
      for (int64_t j = 0; j < n_keys; ++j) {
        const float p = scores[size_t(j)] * inv_sum;
        const float* v = values + j * s.head_dim;
        for (int64_t d = 0; d < s.head_dim; ++d) dst[d] += p * v[d];
      }
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
