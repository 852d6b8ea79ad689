// The inner step of tiled attention (ops/attention.cpp): a tile of queries of one head against a tile of keys,
// folded into each query's online softmax. The caller widens the tile's keys and values to float32 once and
// reuses them for every query of the tile, so a key is read from memory once per query tile, not per query;
// the kernel is then two small matrix products (scores = Q K^T, acc += P V) with the softmax between them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dsmoe {

inline constexpr int kTileKeys = 64;     // keys per tile (four AVX-512 vectors, eight AVX2 ones)
inline constexpr int kTileQueries = 32;  // queries per tile

// One tile step for n_queries (<= kTileQueries) query rows lying q_stride floats apart:
//   keys_t  [head_dim][kTileKeys]: the tile's keys as columns (columns past n_keys hold zeros)
//   values  [kTileKeys][head_dim]: the tile's values as rows (rows past n_keys are not read)
//   query r sees the tile's first min(n_keys, visible + r) keys (the causal mask; none when that is <= 0)
//   row_max, row_sum [n_queries], acc [n_queries][head_dim]: each query's running maximum, sum of
//   exponentials and unnormalised output, updated in place (start them at -inf, 0 and 0).
// The scores are q·k times scale. Each query's result depends only on its own row and the tile.
using AttendTileFn = void (*)(const float* q, size_t q_stride, int n_queries, int visible, const float* keys_t,
                              const float* values, int n_keys, int64_t head_dim, float scale, float* row_max,
                              float* row_sum, float* acc);

// The same step for one query (decode) against n_keys (<= kTileKeys) key and value rows widened to float32
// ([n_keys][head_dim] each, untransposed: one query does not repay a transposition). Every key is visible.
using AttendRowFn = void (*)(const float* q, const float* key_rows, const float* value_rows, int n_keys,
                             int64_t head_dim, float scale, float* row_max, float* row_sum, float* acc);

}  // namespace dsmoe
