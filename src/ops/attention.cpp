#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"
#include "core/sized.h"
#include "kernels/row_dot.h"

namespace dsmoe {

namespace {

constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

// Where a query row's head lives in q, out and the cache.
struct QueryRow {
  int64_t b, i, h;
  size_t offset;  // of the query (and its output) in q / out
  size_t kv_row;  // the cache row of position 0 of its kv head
};

QueryRow query_row(const AttentionShape& s, int64_t row) {
  QueryRow r;
  r.h = row % s.n_heads;
  r.i = (row / s.n_heads) % s.n_new;
  r.b = row / (s.n_heads * s.n_new);
  r.offset = size_t(((r.b * s.n_new + r.i) * s.n_heads + r.h) * s.head_dim);
  r.kv_row = size_t((r.b * s.n_kv_heads + r.h / (s.n_heads / s.n_kv_heads)) * s.capacity);
  return r;
}

// One query against cache positions [begin, end) of one head, in tiles of kTileKeys rows widened to float32,
// folded into (running_max, running_sum, acc).
struct RowAttention {
  const RowKernels& kernels;
  DType kv_type;
  size_t row_bytes;
  int64_t head_dim;
  float scale;

  void operator()(const float* query, const unsigned char* keys, const unsigned char* values, int64_t begin,
                  int64_t end, float* key_rows, float* value_rows, float& running_max, float& running_sum,
                  float* acc) const {
    const RowWidenFn widen = kernels.row_widen[int(kv_type)];
    for (int64_t j0 = begin; j0 < end; j0 += kTileKeys) {
      const int64_t n = std::min<int64_t>(kTileKeys, end - j0);
      widen(keys + size_t(j0) * row_bytes, key_rows, n * head_dim);  // a head's rows are contiguous
      widen(values + size_t(j0) * row_bytes, value_rows, n * head_dim);
      kernels.attend_row(query, key_rows, value_rows, int(n), head_dim, scale, &running_max, &running_sum, acc);
    }
  }
};

void attend_rows(const float* q, const unsigned char* keys, const unsigned char* values, DType kv_type,
                 const AttentionShape& s, float scale, float* out, AttentionScratch& scratch) {
  const RowAttention attend{row_kernels(), kv_type, dtype_row_bytes(kv_type, s.head_dim), s.head_dim, scale};
  const size_t row_bytes = attend.row_bytes;
  const int64_t rows = s.batch * s.n_new * s.n_heads;
  const int64_t longest = s.past + s.n_new;
  const int64_t spans = (longest + kAttentionSplitKeys - 1) / kAttentionSplitKeys;
  // Span k of a row holds [max, sum, acc[head_dim]] over the keys in [k*K, (k+1)*K) that the row sees; with one
  // span, the row's output is written directly.
  const int64_t stride = s.head_dim + 2;
  float* partials = spans > 1 ? sized(scratch.partials, rows * spans * stride) : nullptr;
  parallel_for(rows * spans, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> buffer;  // a tile of key rows and one of value rows, then one head's state
    float* key_rows = sized(buffer, (2 * kTileKeys + 1) * s.head_dim + 2);
    float* value_rows = key_rows + kTileKeys * s.head_dim;
    for (int64_t item = begin; item < end; ++item) {
      const QueryRow r = query_row(s, item / spans);
      const int64_t first = (item % spans) * kAttentionSplitKeys;
      const int64_t last = std::min(first + kAttentionSplitKeys, s.past + r.i + 1);
      float* part = spans > 1 ? partials + item * stride : value_rows + kTileKeys * s.head_dim;
      part[0] = kNegativeInfinity;
      part[1] = 0;
      std::fill(part + 2, part + stride, 0.0f);
      attend(q + r.offset, keys + r.kv_row * row_bytes, values + r.kv_row * row_bytes, first, last, key_rows,
             value_rows, part[0], part[1], part + 2);
      if (spans == 1) {
        const float inv_sum = 1.0f / part[1];
        for (int64_t d = 0; d < s.head_dim; ++d) out[r.offset + size_t(d)] = part[2 + d] * inv_sum;
      }
    }
  });
  if (spans == 1) return;
  // Merge the spans in order: each scaled by e^(its max - the overall max).
  parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* part = partials + row * spans * stride;
      float overall = kNegativeInfinity;
      for (int64_t k = 0; k < spans; ++k) overall = std::max(overall, part[k * stride]);
      float* dst = out + query_row(s, row).offset;
      std::fill(dst, dst + s.head_dim, 0.0f);
      float sum = 0;
      for (int64_t k = 0; k < spans; ++k) {
        const float* span = part + k * stride;
        if (span[1] == 0) continue;
        const float weight = std::exp(span[0] - overall);
        sum += span[1] * weight;
        for (int64_t d = 0; d < s.head_dim; ++d) dst[d] += span[2 + d] * weight;
      }
      const float inv_sum = 1.0f / sum;
      for (int64_t d = 0; d < s.head_dim; ++d) dst[d] *= inv_sum;
    }
  });
}

// Cache rows [first, first + n) of one head widened to float32: keys transposed to [head_dim][kTileKeys]
// (columns past n zeroed), values as rows [n][head_dim].
void widen_tile(RowWidenFn widen, const unsigned char* keys, const unsigned char* values, size_t row_bytes,
                int64_t first, int64_t n, int64_t head_dim, float* key_rows, float* keys_t, float* values_out) {
  widen(keys + size_t(first) * row_bytes, key_rows, n * head_dim);  // a head's rows are contiguous
  widen(values + size_t(first) * row_bytes, values_out, n * head_dim);
  for (int64_t d = 0; d < head_dim; ++d) {
    float* column = keys_t + d * kTileKeys;
    for (int64_t j = 0; j < n; ++j) column[j] = key_rows[j * head_dim + d];
    std::fill(column + n, column + kTileKeys, 0.0f);
  }
}

// Queries attended together: every key tile is widened once for all of them.
constexpr int64_t kQueryGroup = 8 * kTileQueries;

void attend_tiles(const float* q, const unsigned char* keys, const unsigned char* values, DType kv_type,
                  const AttentionShape& s, float scale, float* out) {
  const RowKernels& kernels = row_kernels();
  const size_t row_bytes = dtype_row_bytes(kv_type, s.head_dim);
  const int64_t groups = (s.n_new + kQueryGroup - 1) / kQueryGroup;
  const int64_t items = s.batch * s.n_heads * groups;
  const size_t q_stride = size_t(s.n_heads * s.head_dim);
  parallel_for_dynamic(items, 1, [&](int64_t begin, int64_t end) {
    // Per thread: the key tile (rows, then transposed), the value tile, and the group's softmax states.
    thread_local std::vector<float> buffer;
    float* key_rows = sized(buffer, s.head_dim * (3 * kTileKeys + kQueryGroup) + 2 * kQueryGroup);
    float* keys_t = key_rows + s.head_dim * kTileKeys;
    float* tile_values = keys_t + s.head_dim * kTileKeys;
    float* acc = tile_values + s.head_dim * kTileKeys;
    float* row_max = acc + s.head_dim * kQueryGroup;
    float* row_sum = row_max + kQueryGroup;
    for (int64_t index = begin; index < end; ++index) {
      const int64_t item = items - 1 - index;  // the last groups see the most keys: start them first
      const int64_t head = item / groups;      // b * n_heads + h
      const int64_t first_query = (item % groups) * kQueryGroup;
      const QueryRow r = query_row(s, ((head / s.n_heads) * s.n_new + first_query) * s.n_heads + head % s.n_heads);
      const int64_t n_queries = std::min(kQueryGroup, s.n_new - first_query);
      const int64_t last_seen = s.past + first_query + n_queries;  // keys the group's last query sees
      std::fill(row_max, row_max + n_queries, kNegativeInfinity);
      std::fill(row_sum, row_sum + n_queries, 0.0f);
      std::fill(acc, acc + n_queries * s.head_dim, 0.0f);
      for (int64_t j0 = 0; j0 < last_seen; j0 += kTileKeys) {
        const int64_t n = std::min<int64_t>(kTileKeys, last_seen - j0);
        widen_tile(kernels.row_widen[int(kv_type)], keys + r.kv_row * row_bytes, values + r.kv_row * row_bytes,
                   row_bytes, j0, n, s.head_dim, key_rows, keys_t, tile_values);
        // Each tile of queries, from the first that sees any of these keys (query i sees past + i + 1 keys).
        const int64_t first_tile = std::max<int64_t>(0, j0 - s.past - first_query) / kTileQueries;
        for (int64_t t0 = first_tile * kTileQueries; t0 < n_queries; t0 += kTileQueries) {
          const int64_t seen = s.past + first_query + t0 + 1 - j0;  // keys of this tile the first query sees
          kernels.attend_tile(q + r.offset + size_t(t0) * q_stride, q_stride,
                              int(std::min<int64_t>(kTileQueries, n_queries - t0)),
                              int(std::min<int64_t>(seen, kTileKeys)), keys_t, tile_values, int(n), s.head_dim, scale,
                              row_max + t0, row_sum + t0, acc + t0 * s.head_dim);
        }
      }
      for (int64_t i = 0; i < n_queries; ++i) {
        float* dst = out + r.offset + size_t(i) * q_stride;
        const float inv_sum = 1.0f / row_sum[i];
        for (int64_t d = 0; d < s.head_dim; ++d) dst[d] = acc[i * s.head_dim + d] * inv_sum;
      }
    }
  });
}

}  // namespace

void causal_attention(const float* q, const void* k_cache, const void* v_cache, DType kv_type,
                      const AttentionShape& s, float scale, float* out, AttentionScratch& scratch) {
  if (s.head_dim > kMaxAttentionHeadDim) {
    fail("attention: head_dim ", s.head_dim, " is larger than the supported ", kMaxAttentionHeadDim);
  }
  const auto* keys = static_cast<const unsigned char*>(k_cache);
  const auto* values = static_cast<const unsigned char*>(v_cache);
  if (s.n_new >= kAttentionTileMinQueries) {
    attend_tiles(q, keys, values, kv_type, s, scale, out);
  } else {
    attend_rows(q, keys, values, kv_type, s, scale, out, scratch);
  }
}

void causal_attention(const float* q, const void* k_cache, const void* v_cache, DType kv_type,
                      const AttentionShape& s, float scale, float* out) {
  thread_local AttentionScratch scratch;
  causal_attention(q, k_cache, v_cache, kv_type, s, scale, out, scratch);
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
