// Each kernel against its scalar twin (double accumulation, the plainest loop) on fresh random
// inputs. Tolerances: float32 accumulation of n terms of O(1) values errs by ~n·2^-24 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/dtype.h"
#include "core/parallel.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/softmax_topk.h"
#include "quant/interleave.h"
#include "quant/quantize.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

std::vector<float> normal_vector(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

float max_rel_err(const std::vector<float>& got, const std::vector<float>& want) {
  float diff = 0, mag = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::fabs(got[i] - want[i]));
    mag = std::max(mag, std::fabs(want[i]));
  }
  return diff / mag;
}

// Stores `values` as dtype (rounding), returning the bytes and the view over them.
struct StoredWeight {
  std::vector<uint16_t> half;
  std::vector<float> full;
  TensorView view;
};

StoredWeight store(const std::vector<float>& values, std::vector<int64_t> shape, DType dtype) {
  StoredWeight w;
  w.view.dtype = dtype;
  w.view.shape = std::move(shape);
  if (dtype == DType::F32) {
    w.full = values;
    w.view.data = w.full.data();
  } else {
    for (float v : values) w.half.push_back(dtype == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v));
    w.view.data = w.half.data();
  }
  return w;
}

class MatmulTest : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulTest, MatchesScalarTwin) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (auto [tokens, in, out] : {std::tuple{1, 67, 45}, std::tuple{5, 128, 33}, std::tuple{3, 1000, 17}}) {
    const auto x = normal_vector(size_t(tokens * in), rng);
    const StoredWeight w = store(normal_vector(size_t(out * in), rng), {out, in}, GetParam());
    std::vector<float> got(size_t(tokens * out)), want(got.size());
    matmul_wt(x.data(), tokens, w.view, got.data());
    matmul_wt_reference(x.data(), tokens, w.view, want.data());
    EXPECT_LE(max_rel_err(got, want), 1e-5f) << tokens << "x" << in << "x" << out;
  }
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, MatmulTest, ::testing::Values(DType::F32, DType::BF16, DType::F16));

// A Q8_0, Q4_0, Q4_K or Q6_K weight read in row groups (quant/interleave.h, as Model::load lays out weights read into
// memory) gives the products of the same weight read row by row, to the row kernels' rounding (1e-5 of the sum of
// |terms|, the bound tests/kernels uses), and the same bits for any thread count.
TEST(Matmul, RowGroupsAgreeWithRowsAndHoldForAnyThreadCount) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  struct RestoreThreads {
    ~RestoreThreads() { set_num_threads(0); }
  } restore;
  // Tokens across the column blocks (4) and the token tiles (64); rows across several tasks of 16 KB.
  for (auto [type, tokens, in, out] : {std::tuple{DType::Q8_0, 1, 256, 64}, std::tuple{DType::Q8_0, 7, 2048, 48},
                                       std::tuple{DType::Q8_0, 70, 96, 1040},
                                       std::tuple{DType::Q4_0, 1, 256, 64}, std::tuple{DType::Q4_0, 7, 2048, 48},
                                       std::tuple{DType::Q4_0, 70, 96, 1040}, std::tuple{DType::Q4_K, 1, 256, 64},
                                       std::tuple{DType::Q4_K, 7, 2048, 48}, std::tuple{DType::Q4_K, 70, 512, 1040},
                                       std::tuple{DType::Q6_K, 1, 256, 64}, std::tuple{DType::Q6_K, 7, 2048, 48},
                                       std::tuple{DType::Q6_K, 70, 512, 1040}}) {
    SCOPED_TRACE(dtype_name(type));
    const auto x = normal_vector(size_t(tokens * in), rng);
    const auto values = normal_vector(size_t(out * in), rng);
    const size_t row_bytes = dtype_row_bytes(type, in);
    std::vector<unsigned char> rows(row_bytes * size_t(out)), groups(rows.size());
    quantize_rows(type, values.data(), rows.data(), out, in);
    quant::interleave_matrix(type, rows.data(), out, in, groups.data());
    TensorView plain{type, {out, in}, rows.data()};
    TensorView grouped = plain;
    grouped.data = groups.data();
    grouped.row_groups = true;
    std::vector<float> dequantized(values.size());
    dequantize_row(type, rows.data(), dequantized.data(), out * in);
    set_num_threads(1);
    std::vector<float> want(size_t(tokens * out)), got(want.size()), again(want.size());
    matmul_wt(x.data(), tokens, plain, want.data());
    matmul_wt(x.data(), tokens, grouped, got.data());
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t o = 0; o < out; ++o) {
        double size = 0;
        for (int64_t i = 0; i < in; ++i)
          size += std::fabs(double(x[size_t(t * in + i)]) * dequantized[size_t(o * in + i)]);
        const size_t k = size_t(t * out + o);
        ASSERT_LE(std::fabs(double(got[k]) - want[k]), 1e-5 * size + 1e-30)
            << tokens << "x" << in << "x" << out << " token " << t << " row " << o << ": " << got[k] << " vs "
            << want[k];
      }
    }
    for (int threads : {2, 3}) {
      set_num_threads(threads);
      matmul_wt(x.data(), tokens, grouped, again.data());
      EXPECT_EQ(0, std::memcmp(got.data(), again.data(), got.size() * sizeof(float))) << threads << " threads";
    }
  }
}

TEST(Kernels, RmsNormMatchesDoubleFormula) {
  std::mt19937 rng(testing::fresh_seed());
  const int64_t rows = 3, dim = 77;
  const auto x = normal_vector(size_t(rows * dim), rng, 3.0f);
  const StoredWeight gain = store(normal_vector(size_t(dim), rng), {dim}, DType::F32);
  std::vector<float> got(x.size()), want(x.size());
  rms_norm(x.data(), rows, dim, gain.view, 1e-6, got.data());
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < dim; ++i) sum += double(x[size_t(r * dim + i)]) * x[size_t(r * dim + i)];
    const double inv = 1.0 / std::sqrt(sum / double(dim) + 1e-6);
    for (int64_t i = 0; i < dim; ++i)
      want[size_t(r * dim + i)] = float(gain.full[size_t(i)] * x[size_t(r * dim + i)] * inv);
  }
  EXPECT_LE(max_rel_err(got, want), 1e-6f);
}

TEST(Kernels, SiluMulMatchesDefinition) {
  std::mt19937 rng(testing::fresh_seed());
  auto gate = normal_vector(200, rng, 4.0f);
  const auto up = normal_vector(200, rng);
  std::vector<float> want(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) want[i] = float(gate[i] / (1.0 + std::exp(-double(gate[i]))) * up[i]);
  silu_mul(gate.data(), up.data(), int64_t(gate.size()));
  EXPECT_LE(max_rel_err(gate, want), 1e-6f);
}

TEST(Kernels, SoftmaxSumsToOneAndMatchesDouble) {
  std::mt19937 rng(testing::fresh_seed());
  auto x = normal_vector(64, rng, 10.0f);
  x[3] = 500.0f;  // large logits must not overflow
  std::vector<float> want(x.size());
  double max_v = 500.0, sum = 0;
  for (float v : x) sum += std::exp(double(v) - max_v);
  for (size_t i = 0; i < x.size(); ++i) want[i] = float(std::exp(double(x[i]) - max_v) / sum);
  softmax(x.data(), int64_t(x.size()));
  EXPECT_LE(max_rel_err(x, want), 1e-6f);
}

TEST(Kernels, TopKPicksLargestInOrderWithLowerIndexOnTies) {
  std::mt19937 rng(testing::fresh_seed());
  auto x = normal_vector(40, rng);
  x[7] = 9.0f;
  x[2] = 9.0f;  // tie: index 2 first
  x[30] = 8.0f;
  int32_t idx[3];
  float val[3];
  top_k(x.data(), 40, 3, idx, val);
  EXPECT_EQ(idx[0], 2);
  EXPECT_EQ(idx[1], 7);
  EXPECT_EQ(idx[2], 30);
  EXPECT_EQ(val[2], 8.0f);
  // Against a full sort of the rest.
  std::vector<float> sorted = x;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  int32_t idx8[8];
  float val8[8];
  top_k(x.data(), 40, 8, idx8, val8);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(val8[i], sorted[size_t(i)]);
}

TEST(Kernels, CausalAttentionMatchesFullScoreMatrix) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (auto [heads, kv_heads, past, n_new] :
       {std::tuple{4, 4, 0, 9}, std::tuple{6, 2, 5, 4}, std::tuple{2, 1, 11, 1}}) {
    AttentionShape s;
    s.batch = 2;
    s.n_new = n_new;
    s.past = past;
    s.n_heads = heads;
    s.n_kv_heads = kv_heads;
    s.head_dim = 16;
    s.capacity = past + n_new + 3;  // rows longer than used: the kernel must respect the stride
    const auto q = normal_vector(size_t(s.batch * n_new * heads * s.head_dim), rng);
    const auto k = normal_vector(size_t(s.batch * kv_heads * s.capacity * s.head_dim), rng);
    const auto v = normal_vector(k.size(), rng);
    std::vector<float> got(q.size()), want(q.size());
    causal_attention(q.data(), k.data(), v.data(), s, 0.25f, got.data());
    causal_attention_reference(q.data(), k.data(), v.data(), s, 0.25f, want.data());
    EXPECT_LE(max_rel_err(got, want), 1e-5f) << heads << "/" << kv_heads << " past " << past;
  }
}

}  // namespace
}  // namespace dsmoe
