// The attention tile step (kernels/attention_tile.h), written once in GCC/Clang vector extensions and compiled
// by each instruction set's file (row_dot_scalar.cpp, row_dot_avx2.cpp, row_dot_avx512.cpp). A vector is
// exactly one register of the set (16 floats on AVX-512, 8 on AVX2, 4 on SSE): GCC lowers a vector wider than
// the hardware's through the stack, which made the AVX2 build of a 16-float version run at 1.6 GMAC/s. The
// register blocks are sized per set so that accumulators, loaded operands and a broadcast fit in its 32 or 16
// registers. Portable: no intrinsics. The includer defines DSMOE_KERNEL_NS.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/attention_tile.h"

namespace dsmoe::kernels_detail {
namespace DSMOE_KERNEL_NS::attention {
namespace {

// kScoreVectors: key vectors per pass of tile_scores (x kRowBlock accumulators); kValueVectors: output vectors
// per pass of accumulate_block for a block of query rows, kDecodeVectors for one row (its loads fold into the
// multiply-adds, so only the accumulators and a broadcast need registers).
#if defined(__AVX512F__)
constexpr int kLanes = 16, kScoreVectors = 4, kValueVectors = 4, kDecodeVectors = 8;  // 32 registers
#elif defined(__AVX2__)
constexpr int kLanes = 8, kScoreVectors = 2, kValueVectors = 2, kDecodeVectors = 8;  // 16 registers
#else
constexpr int kLanes = 4, kScoreVectors = 2, kValueVectors = 2, kDecodeVectors = 4;  // SSE2: 16 registers
#endif
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));
using IntVec = int32_t __attribute__((vector_size(kLanes * sizeof(int32_t))));
constexpr int kKeyVectors = kTileKeys / kLanes;
constexpr int kRowBlock = 4;  // query rows per register block
static_assert(kKeyVectors % kScoreVectors == 0);

[[gnu::always_inline]] inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
[[gnu::always_inline]] inline Vec splat(float x) { return Vec{} + x; }

// e^x for x <= 0 (a score minus the running maximum), to about 2 ulp: x = n ln2 + r with |r| <= ln2/2, e^r
// by its Taylor series to r^7 (error below 2e-8 relative), times 2^n built in the exponent bits. Below -87
// (e^x under float's normal range) the result is 0.
[[gnu::always_inline]] inline Vec exp_nonpositive(Vec x) {
  const IntVec underflow = x < splat(-87.0f);
  x = underflow ? splat(-87.0f) : x;
  const Vec t = x * 1.44269504088896341f;
  Vec n = __builtin_convertvector(__builtin_convertvector(t, IntVec), Vec);  // truncation toward zero
  n = n > t ? n - 1.0f : n;                                                  // floor
  const Vec r = (x - n * 0.693359375f) + n * 2.12194440e-4f;                 // ln2 split in two for exactness
  Vec p = splat(1.0f / 5040);
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const IntVec bits = (__builtin_convertvector(n, IntVec) + 127) << 23;
  Vec scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return underflow ? splat(0.0f) : p * scale;
}

// scores[r][j] = scale * q_r · key_j for the tile's 64 keys, four query rows and kScoreVectors key vectors at a
// time.
void tile_scores(const float* q, size_t q_stride, int n_queries, const float* keys_t, int64_t head_dim, float scale,
                 float (*scores)[kTileKeys]) {
  for (int r0 = 0; r0 < n_queries; r0 += kRowBlock) {
    const float* rows[kRowBlock];
    for (int i = 0; i < kRowBlock; ++i) rows[i] = q + size_t(std::min(r0 + i, n_queries - 1)) * q_stride;
    for (int c0 = 0; c0 < kKeyVectors; c0 += kScoreVectors) {
      Vec acc[kRowBlock][kScoreVectors] = {};
      for (int64_t d = 0; d < head_dim; ++d) {
        const float* key_values = keys_t + d * kTileKeys + c0 * kLanes;
        Vec k[kScoreVectors];
        for (int c = 0; c < kScoreVectors; ++c) k[c] = load(key_values + c * kLanes);
        for (int i = 0; i < kRowBlock; ++i) {
          const Vec qd = splat(rows[i][d]);
          for (int c = 0; c < kScoreVectors; ++c) acc[i][c] += qd * k[c];
        }
      }
      for (int i = 0; i < kRowBlock && r0 + i < n_queries; ++i) {
        for (int c = 0; c < kScoreVectors; ++c) store(scores[r0 + i] + (c0 + c) * kLanes, acc[i][c] * scale);
      }
    }
  }
}

// acc[r][d0 .. d0 + width) += sum_j p[r][j] * values[j][d0 ..]: Rows query rows, Vectors vectors of kLanes
// columns.
template <int Rows, int Vectors>
void accumulate_block(const float (*p)[kTileKeys], const float* values, int n_keys, int64_t head_dim, int64_t d0,
                      float* acc) {
  Vec sum[Rows][Vectors];
  for (int i = 0; i < Rows; ++i) {
    for (int c = 0; c < Vectors; ++c) sum[i][c] = load(acc + i * head_dim + d0 + c * kLanes);
  }
  for (int j = 0; j < n_keys; ++j) {
    Vec v[Vectors];
    for (int c = 0; c < Vectors; ++c) v[c] = load(values + j * head_dim + d0 + c * kLanes);
    for (int i = 0; i < Rows; ++i) {
      const Vec pj = splat(p[i][j]);
      for (int c = 0; c < Vectors; ++c) sum[i][c] += pj * v[c];
    }
  }
  for (int i = 0; i < Rows; ++i) {
    for (int c = 0; c < Vectors; ++c) store(acc + i * head_dim + d0 + c * kLanes, sum[i][c]);
  }
}

template <int Rows>
void accumulate_rows(const float (*p)[kTileKeys], const float* values, int n_keys, int64_t head_dim, float* acc) {
  int64_t d0 = 0;
  // One row (decode) has registers for more independent sums: more additions in flight.
  if constexpr (Rows == 1) {
    for (; d0 + kDecodeVectors * kLanes <= head_dim; d0 += kDecodeVectors * kLanes) {
      accumulate_block<1, kDecodeVectors>(p, values, n_keys, head_dim, d0, acc);
    }
  }
  for (; d0 + kValueVectors * kLanes <= head_dim; d0 += kValueVectors * kLanes) {
    accumulate_block<Rows, kValueVectors>(p, values, n_keys, head_dim, d0, acc);
  }
  for (; d0 + kLanes <= head_dim; d0 += kLanes) accumulate_block<Rows, 1>(p, values, n_keys, head_dim, d0, acc);
  for (; d0 < head_dim; ++d0) {  // a head_dim that is not a multiple of kLanes
    for (int i = 0; i < Rows; ++i) {
      float sum = acc[i * head_dim + d0];
      for (int j = 0; j < n_keys; ++j) sum += p[i][j] * values[j * head_dim + d0];
      acc[i * head_dim + d0] = sum;
    }
  }
}

void attend_tile(const float* q, size_t q_stride, int n_queries, int visible, const float* keys_t,
                 const float* values, int n_keys, int64_t head_dim, float scale, float* row_max, float* row_sum,
                 float* acc) {
  alignas(64) float p[kTileQueries][kTileKeys];
  tile_scores(q, q_stride, n_queries, keys_t, head_dim, scale, p);
  IntVec lane;
  for (int i = 0; i < kLanes; ++i) lane[i] = i;
  for (int r = 0; r < n_queries; ++r) {
    const int seen = std::min(n_keys, visible + r);
    float* out = acc + r * head_dim;
    if (seen <= 0) {  // every key of the tile lies after this query
      std::fill(p[r], p[r] + kTileKeys, 0.0f);
      continue;
    }
    float tile_max = row_max[r];
    for (int j = 0; j < seen; ++j) tile_max = std::max(tile_max, p[r][j]);
    if (tile_max > row_max[r]) {  // a larger maximum rescales what was summed so far
      const float rescale = std::exp(row_max[r] - tile_max);
      row_sum[r] *= rescale;
      for (int64_t d = 0; d < head_dim; ++d) out[d] *= rescale;
      row_max[r] = tile_max;
    }
    Vec total{};
    for (int c = 0; c < kKeyVectors; ++c) {
      const IntVec shown = (lane + c * kLanes) < seen;
      const Vec e = exp_nonpositive(load(p[r] + c * kLanes) - tile_max);
      const Vec weight = shown ? e : splat(0.0f);
      store(p[r] + c * kLanes, weight);
      total += weight;
    }
    float sum = 0;
    for (int i = 0; i < kLanes; ++i) sum += total[i];
    row_sum[r] += sum;
  }
  int r0 = 0;
  for (; r0 + kRowBlock <= n_queries; r0 += kRowBlock) {
    accumulate_rows<kRowBlock>(p + r0, values, n_keys, head_dim, acc + r0 * head_dim);
  }
  switch (n_queries - r0) {
    case 3:
      accumulate_rows<3>(p + r0, values, n_keys, head_dim, acc + r0 * head_dim);
      break;
    case 2:
      accumulate_rows<2>(p + r0, values, n_keys, head_dim, acc + r0 * head_dim);
      break;
    case 1:
      accumulate_rows<1>(p + r0, values, n_keys, head_dim, acc + r0 * head_dim);
      break;
    default:
      break;
  }
}

// The sum of a vector's lanes by halving (log2 dependent adds, where lane by lane took kLanes).
[[gnu::always_inline]] inline float horizontal_sum(Vec v) {
  float lanes[kLanes];
  std::memcpy(lanes, &v, sizeof lanes);
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int i = 0; i < width; ++i) lanes[i] += lanes[i + width];
  }
  return lanes[0];
}

// scores[j] = scale * q · row j for n_keys rows of head_dim floats, four rows at a time so that their sums
// proceed side by side instead of waiting on one another.
void row_scores(const float* q, const float* rows, int n_keys, int64_t head_dim, float scale, float* scores) {
  const int64_t vectorized = head_dim / kLanes * kLanes;
  int j = 0;
  for (; j + 4 <= n_keys; j += 4) {
    const float* r = rows + j * head_dim;
    Vec s0{}, s1{}, s2{}, s3{};
    for (int64_t d = 0; d < vectorized; d += kLanes) {
      const Vec qd = load(q + d);
      s0 += qd * load(r + d);
      s1 += qd * load(r + head_dim + d);
      s2 += qd * load(r + 2 * head_dim + d);
      s3 += qd * load(r + 3 * head_dim + d);
    }
    float t[4] = {horizontal_sum(s0), horizontal_sum(s1), horizontal_sum(s2), horizontal_sum(s3)};
    for (int k = 0; k < 4; ++k) {
      for (int64_t d = vectorized; d < head_dim; ++d) t[k] += q[d] * r[k * head_dim + d];
      scores[j + k] = t[k] * scale;
    }
  }
  for (; j < n_keys; ++j) {
    const float* r = rows + j * head_dim;
    Vec s{};
    for (int64_t d = 0; d < vectorized; d += kLanes) s += load(q + d) * load(r + d);
    float t = horizontal_sum(s);
    for (int64_t d = vectorized; d < head_dim; ++d) t += q[d] * r[d];
    scores[j] = t * scale;
  }
}

void attend_row(const float* q, const float* key_rows, const float* value_rows, int n_keys, int64_t head_dim,
                float scale, float* row_max, float* row_sum, float* acc) {
  alignas(64) float p[1][kTileKeys];
  row_scores(q, key_rows, n_keys, head_dim, scale, p[0]);
  float tile_max = *row_max;
  for (int j = 0; j < n_keys; ++j) tile_max = std::max(tile_max, p[0][j]);
  std::fill(p[0] + n_keys, p[0] + kTileKeys, tile_max);  // e^0 lanes, masked below
  if (tile_max > *row_max) {
    const float rescale = std::exp(*row_max - tile_max);
    *row_sum *= rescale;
    for (int64_t d = 0; d < head_dim; ++d) acc[d] *= rescale;
    *row_max = tile_max;
  }
  IntVec lane;
  for (int i = 0; i < kLanes; ++i) lane[i] = i;
  Vec total{};
  for (int c = 0; c < kKeyVectors; ++c) {
    const IntVec shown = (lane + c * kLanes) < n_keys;
    const Vec weight = shown ? exp_nonpositive(load(p[0] + c * kLanes) - tile_max) : splat(0.0f);
    store(p[0] + c * kLanes, weight);
    total += weight;
  }
  float sum = 0;
  for (int i = 0; i < kLanes; ++i) sum += total[i];
  *row_sum += sum;
  accumulate_rows<1>(p, value_rows, n_keys, head_dim, acc);
}

}  // namespace
}  // namespace DSMOE_KERNEL_NS::attention
}  // namespace dsmoe::kernels_detail
