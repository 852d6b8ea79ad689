// causal_attention's two paths against the full score matrix in double (causal_attention_reference): the
// tiled prefill path (query tiles against key tiles widened to float32) and split decode (spans of
// kAttentionSplitKeys keys merged by their maxima and sums), with F32 and F16 caches, grouped-query heads and a
// head_dim that is not a multiple of 16. The reference reads the same rounded cache values, so only the
// float32 sums and the kernels' exponential differ: 2e-5 of the largest output.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/dtype.h"
#include "core/parallel.h"
#include "ops/attention.h"
#include "quant/quantize.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

struct Problem {
  AttentionShape shape;
  DType type = DType::F32;
  std::vector<float> q, k, v;                  // k, v as the reference reads them (rounded to `type`)
  std::vector<unsigned char> k_bytes, v_bytes;  // the cache as stored
};

Problem make_problem(int64_t heads, int64_t kv_heads, int64_t past, int64_t n_new, int64_t head_dim, DType type,
                     std::mt19937& rng) {
  Problem p;
  AttentionShape& s = p.shape;
  s.batch = 2;
  s.n_new = n_new;
  s.past = past;
  s.n_heads = heads;
  s.n_kv_heads = kv_heads;
  s.head_dim = head_dim;
  s.capacity = past + n_new + 5;  // rows longer than used: the kernel must respect the stride
  p.type = type;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  p.q.resize(size_t(s.batch * n_new * heads * head_dim));
  for (float& x : p.q) x = normal(rng) * 2;  // peaked softmaxes as well as flat ones
  const int64_t rows = s.batch * kv_heads * s.capacity;
  const size_t row_bytes = dtype_row_bytes(type, head_dim);
  p.k.resize(size_t(rows * head_dim));
  p.v.resize(p.k.size());
  p.k_bytes.resize(size_t(rows) * row_bytes);
  p.v_bytes.resize(p.k_bytes.size());
  for (float& x : p.k) x = normal(rng);
  for (float& x : p.v) x = normal(rng);
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(type, p.k.data() + r * head_dim, p.k_bytes.data() + size_t(r) * row_bytes, head_dim);
    quantize_row(type, p.v.data() + r * head_dim, p.v_bytes.data() + size_t(r) * row_bytes, head_dim);
    dequantize_row(type, p.k_bytes.data() + size_t(r) * row_bytes, p.k.data() + r * head_dim, head_dim);
    dequantize_row(type, p.v_bytes.data() + size_t(r) * row_bytes, p.v.data() + r * head_dim, head_dim);
  }
  return p;
}

std::vector<float> attend(const Problem& p, float scale) {
  std::vector<float> out(p.q.size());
  causal_attention(p.q.data(), p.k_bytes.data(), p.v_bytes.data(), p.type, p.shape, scale, out.data());
  return out;
}

using Case = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>;  // heads, kv heads, past, new, head_dim

std::vector<Case> cases() {
  return {
      {4, 4, 0, 40, 128},                      // tiled from an empty cache
      {2, 1, 70, 33, 40},                      // tiled, grouped heads, head_dim % 16 != 0
      {3, 3, 5, kAttentionTileMinQueries, 8},  // the smallest tiled call
      {2, 2, kAttentionSplitKeys + 4, 1, 16},  // split decode, a short last span
      {4, 2, 2 * kAttentionSplitKeys, 3, 32},  // split, grouped heads, rows ending in different spans
      {2, 2, 100, kAttentionTileMinQueries - 1, 24},  // row by row, one span
  };
}

TEST(Attention, EveryPathMatchesTheFullScoreMatrix) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (const DType type : {DType::F32, DType::F16}) {
    for (const auto& [heads, kv_heads, past, n_new, head_dim] : cases()) {
      SCOPED_TRACE(std::string(dtype_name(type)) + " heads " + std::to_string(heads) + "/" + std::to_string(kv_heads) +
                   " past " + std::to_string(past) + " new " + std::to_string(n_new) + " head_dim " +
                   std::to_string(head_dim));
      const Problem p = make_problem(heads, kv_heads, past, n_new, head_dim, type, rng);
      const float scale = 1.0f / std::sqrt(float(head_dim));
      const std::vector<float> got = attend(p, scale);
      std::vector<float> want(p.q.size());
      causal_attention_reference(p.q.data(), p.k.data(), p.v.data(), p.shape, scale, want.data());
      float diff = 0, magnitude = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        diff = std::max(diff, std::fabs(got[i] - want[i]));
        magnitude = std::max(magnitude, std::fabs(want[i]));
      }
      EXPECT_LE(diff, 2e-5f * magnitude);
    }
  }
}

TEST(Attention, ThreadCountDoesNotChangeABit) {
  struct RestoreThreads {
    ~RestoreThreads() { set_num_threads(0); }
  } restore;
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (const auto& [heads, kv_heads, past, n_new, head_dim] : cases()) {
    const Problem p = make_problem(heads, kv_heads, past, n_new, head_dim, DType::F16, rng);
    set_num_threads(1);
    const std::vector<float> one = attend(p, 0.125f);
    for (int threads : {2, 3}) {
      set_num_threads(threads);
      EXPECT_EQ(attend(p, 0.125f), one) << threads << " threads, past " << past << " new " << n_new;
    }
  }
}

}  // namespace
}  // namespace dsmoe
