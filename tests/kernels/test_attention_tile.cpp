// Every instruction set's attention tile steps (kernels/attention_tile.h) against the online-softmax update
// written out in double: from a random incoming state (running maximum, sum, output), one tile of scores
// with the causal mask folded in. Each set's exponential is a polynomial accurate to a few ulp and its sums
// run in float32, so the state agrees with the double update to 1e-6 relative (the exponential's error and the
// float sums) plus the rounding of the float scores, which exp turns into relative errors (see score_error).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/row_dot.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

struct TileCase {
  int n_queries, n_keys, visible;
  int64_t head_dim;
};

class AttentionTileTest : public ::testing::TestWithParam<Isa> {};

TEST_P(AttentionTileTest, FoldsOneTileIntoTheOnlineSoftmaxLikeTheFormulaInDouble) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  const AttendTileFn attend = row_kernels(isa).attend_tile;
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const TileCase cases[] = {{32, 64, 64, 128}, {32, 64, 1, 128}, {7, 33, 5, 64}, {1, 1, 1, 16},  {5, 64, -3, 40},
                            {32, 17, 40, 8},   {13, 64, 30, 96}, {4, 64, -40, 16}, {31, 50, 20, 200}};
  for (const TileCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.n_queries) + " queries, " + std::to_string(c.n_keys) + " keys, visible " +
                 std::to_string(c.visible) + ", head_dim " + std::to_string(c.head_dim));
    const int64_t d = c.head_dim;
    const size_t q_stride = size_t(d + 3);  // rows further apart than one head, as in [tokens, heads, head_dim]
    std::vector<float> q(q_stride * size_t(c.n_queries)), keys(size_t(c.n_keys * d)), values(size_t(kTileKeys * d));
    for (float& x : q) x = normal(rng);
    for (float& x : keys) x = normal(rng);
    for (float& x : values) x = normal(rng);
    std::vector<float> keys_t(size_t(d * kTileKeys), 0.0f);
    for (int j = 0; j < c.n_keys; ++j) {
      for (int64_t e = 0; e < d; ++e) keys_t[size_t(e * kTileKeys + j)] = keys[size_t(j * d + e)];
    }
    // An incoming state: half the rows fresh (-inf, 0, 0), half from an earlier tile with a maximum that
    // is sometimes above and sometimes below this tile's scores.
    std::vector<float> row_max(size_t(c.n_queries)), row_sum(size_t(c.n_queries)), acc(size_t(c.n_queries * d));
    for (int r = 0; r < c.n_queries; ++r) {
      const bool fresh = r % 2 == 0;
      row_max[size_t(r)] = fresh ? -std::numeric_limits<float>::infinity() : normal(rng) * 3;
      row_sum[size_t(r)] = fresh ? 0.0f : 1.0f + std::fabs(normal(rng)) * 10;
      for (int64_t e = 0; e < d; ++e) acc[size_t(r * d + e)] = fresh ? 0.0f : normal(rng) * 5;
    }
    const float scale = 1.0f / std::sqrt(float(d));
    std::vector<float> got_max = row_max, got_sum = row_sum, got_acc = acc;
    attend(q.data(), q_stride, c.n_queries, c.visible, keys_t.data(), values.data(), c.n_keys, d, scale,
           got_max.data(), got_sum.data(), got_acc.data());

    for (int r = 0; r < c.n_queries; ++r) {
      const int seen = std::clamp(c.visible + r, 0, c.n_keys);
      std::vector<double> scores(static_cast<size_t>(seen));
      double m = row_max[size_t(r)];
      double largest_abs_dot = 0;  // max over keys of sum |q_e k_e|: what the float dot product's rounding scales with
      for (int j = 0; j < seen; ++j) {
        double s = 0, abs_dot = 0;
        for (int64_t e = 0; e < d; ++e) {
          const double term = double(q[size_t(r) * q_stride + size_t(e)]) * keys[size_t(j * d + e)];
          s += term;
          abs_dot += std::fabs(term);
        }
        scores[size_t(j)] = s * scale;
        m = std::max(m, scores[size_t(j)]);
        largest_abs_dot = std::max(largest_abs_dot, abs_dot);
      }
      // A float score is off by about sqrt(d) * 2^-24 * scale * sum |q_e k_e| (rounding errors of the d products
      // and sums, random in sign), and exp turns that absolute error of a score into a relative error of its term;
      // 3x that, plus float's own rounding of the sum. (A fixed 2e-6 failed about 1 run in 15 at head_dim 200.)
      const double score_error = 3 * std::sqrt(double(d)) * 0x1p-24 * double(scale) * largest_abs_dot;
      const double carry = seen == 0 || std::isinf(row_max[size_t(r)]) ? (seen == 0 ? 1.0 : 0.0)
                                                                         : std::exp(double(row_max[size_t(r)]) - m);
      double sum = row_sum[size_t(r)] * carry;
      for (int j = 0; j < seen; ++j) sum += std::exp(scores[size_t(j)] - m);
      EXPECT_NEAR(got_sum[size_t(r)], sum, (1e-6 + score_error) * sum) << "row " << r;
      if (seen > 0) {
        EXPECT_NEAR(got_max[size_t(r)], m, 1e-5 * (1 + std::fabs(m))) << "row " << r;
      }
      for (int64_t e = 0; e < d; ++e) {
        double want = acc[size_t(r * d + e)] * carry, magnitude = std::fabs(want);
        for (int j = 0; j < seen; ++j) {
          const double term = std::exp(scores[size_t(j)] - m) * values[size_t(j * d + e)];
          want += term;
          magnitude += std::fabs(term);
        }
        ASSERT_NEAR(got_acc[size_t(r * d + e)], want, (1e-6 + score_error) * (magnitude + 1e-30))
            << "row " << r << " dim " << e;
      }
    }
  }
}

TEST_P(AttentionTileTest, FoldsRowsIntoOneQuerysOnlineSoftmaxLikeTheFormulaInDouble) {
  const Isa isa = GetParam();
  if (!cpu_supports(isa)) GTEST_SKIP() << "this CPU does not run " << isa_name(isa);
  const AttendRowFn attend = row_kernels(isa).attend_row;
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& [n_keys, d] : {std::pair{64, int64_t(128)}, {1, 16}, {37, 40}, {64, 8}, {50, 200}}) {
    for (const bool fresh : {true, false}) {
      SCOPED_TRACE(std::to_string(n_keys) + " keys, head_dim " + std::to_string(d) + (fresh ? ", fresh" : ""));
      std::vector<float> q(static_cast<size_t>(d)), keys(static_cast<size_t>(n_keys * d)), values(keys.size());
      for (float& x : q) x = normal(rng) * 2;
      for (float& x : keys) x = normal(rng);
      for (float& x : values) x = normal(rng);
      float row_max = fresh ? -std::numeric_limits<float>::infinity() : normal(rng) * 3;
      float row_sum = fresh ? 0.0f : 1.0f + std::fabs(normal(rng)) * 10;
      std::vector<float> acc(static_cast<size_t>(d));
      for (float& x : acc) x = fresh ? 0.0f : normal(rng) * 5;
      const float scale = 1.0f / std::sqrt(float(d));
      float got_max = row_max, got_sum = row_sum;
      std::vector<float> got_acc = acc;
      attend(q.data(), keys.data(), values.data(), n_keys, d, scale, &got_max, &got_sum, got_acc.data());

      std::vector<double> scores(static_cast<size_t>(n_keys));
      double m = row_max;
      double largest_abs_dot = 0;
      for (int j = 0; j < n_keys; ++j) {
        double s = 0, abs_dot = 0;
        for (int64_t e = 0; e < d; ++e) {
          const double term = double(q[size_t(e)]) * keys[size_t(j * d + e)];
          s += term;
          abs_dot += std::fabs(term);
        }
        scores[size_t(j)] = s * scale;
        m = std::max(m, scores[size_t(j)]);
        largest_abs_dot = std::max(largest_abs_dot, abs_dot);
      }
      const double score_error = 3 * std::sqrt(double(d)) * 0x1p-24 * double(scale) * largest_abs_dot;  // as above
      const double carry = fresh ? 0.0 : std::exp(double(row_max) - m);
      double sum = row_sum * carry;
      for (int j = 0; j < n_keys; ++j) sum += std::exp(scores[size_t(j)] - m);
      EXPECT_NEAR(got_sum, sum, (1e-6 + score_error) * sum);
      EXPECT_NEAR(got_max, m, 1e-5 * (1 + std::fabs(m)));
      for (int64_t e = 0; e < d; ++e) {
        double want = acc[size_t(e)] * carry, magnitude = std::fabs(want);
        for (int j = 0; j < n_keys; ++j) {
          const double term = std::exp(scores[size_t(j)] - m) * values[size_t(j * d + e)];
          want += term;
          magnitude += std::fabs(term);
        }
        ASSERT_NEAR(got_acc[size_t(e)], want, (1e-6 + score_error) * (magnitude + 1e-30)) << "dim " << e;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsa, AttentionTileTest, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& p) { return std::string(isa_name(p.param)); });

}  // namespace
}  // namespace dsmoe
