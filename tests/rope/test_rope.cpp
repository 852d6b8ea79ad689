// RoPE properties in C++: exact angles, both pairings, partial rotary, the relative-position property, and the
// plans' simple identities. The formulas themselves are checked against NumPy in tests/rope/check_rope.py.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "dsmoe/rope/rope_apply.h"
#include "dsmoe/rope/rope_frequencies.h"
#include "dsmoe/rope/rope_table.h"

namespace dsmoe {
namespace {

RopeParams params(int64_t dim) {
  RopeParams p;
  p.rotary_dim = dim;
  p.theta = 10000.0;
  return p;
}

TEST(Rope, InverseFrequenciesFollowTheta) {
  const auto inv = rope_frequencies(params(128), 1).inv_freq;
  ASSERT_EQ(inv.size(), 64u);
  for (size_t j = 0; j < inv.size(); ++j) {
    const double want = std::pow(10000.0, -2.0 * double(j) / 128.0);
    EXPECT_NEAR(inv[j] / want, 1.0, 1e-6) << j;
  }
}

TEST(Rope, AnglesAreExactForTheFloat32Frequencies) {
  const RopeFrequencies f = rope_frequencies(params(128), 1);
  RopeTable table;
  table.compute(f, 999990, 20);
  for (int64_t p = 999990; p < 1000010; ++p) {
    for (int64_t j = 0; j < 64; ++j) {
      const double angle = double(p) * double(f.inv_freq[size_t(j)]);
      EXPECT_NEAR(table.cos(p)[j], std::cos(angle), 1e-7);
      EXPECT_NEAR(table.sin(p)[j], std::sin(angle), 1e-7);
    }
  }
}

TEST(Rope, InterleavedIsRotateHalfWithPermutedCoordinates) {
  const int64_t d = 16, heads = 3;
  RopeTable table;
  table.compute(rope_frequencies(params(d), 1), 37, 1);
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal;
  std::vector<float> inter(size_t(heads * d)), half(inter.size());
  for (float& v : inter) v = normal(rng);
  const auto perm = rotate_half_from_interleaved(d);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < d; ++i) half[size_t(h * d + i)] = inter[size_t(h * d + perm[size_t(i)])];
  }
  rope_apply(half.data(), heads, d, table.cos(37), table.sin(37), d, RopePairing::kRotateHalf);
  rope_apply(inter.data(), heads, d, table.cos(37), table.sin(37), d, RopePairing::kInterleaved);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < d; ++i) EXPECT_EQ(half[size_t(h * d + i)], inter[size_t(h * d + perm[size_t(i)])]);
  }
}

TEST(Rope, DotProductDependsOnlyOnRelativePosition) {
  const int64_t d = 32;
  const RopeFrequencies f = rope_frequencies(params(d), 1);
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal;
  std::vector<float> q(d), k(d);
  for (auto& v : q) v = normal(rng);
  for (auto& v : k) v = normal(rng);
  auto rotated_dot = [&](int64_t m, int64_t n) {
    RopeTable tq, tk;
    tq.compute(f, m, 1);
    tk.compute(f, n, 1);
    auto qm = q, kn = k;
    rope_apply(qm.data(), 1, d, tq.cos(m), tq.sin(m), d, RopePairing::kRotateHalf);
    rope_apply(kn.data(), 1, d, tk.cos(n), tk.sin(n), d, RopePairing::kRotateHalf);
    double dot = 0;
    for (int64_t i = 0; i < d; ++i) dot += double(qm[size_t(i)]) * kn[size_t(i)];
    return dot;
  };
  const double base = rotated_dot(10, 3);
  // Exact angles: the property holds to float32 rounding of the rotation, even a million positions out.
  EXPECT_NEAR(rotated_dot(300, 293), base, 1e-5 * (std::fabs(base) + 1.0));
  EXPECT_NEAR(rotated_dot(1000007, 1000000), base, 1e-5 * (std::fabs(base) + 1.0));
}

TEST(Rope, PartialRotaryLeavesTheTailAlone) {
  const int64_t head_dim = 12, rotary = 8;
  RopeTable table;
  table.compute(rope_frequencies(params(rotary), 1), 9, 1);
  std::vector<float> x(head_dim);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) + 1.0f;
  const auto before = x;
  rope_apply(x.data(), 1, head_dim, table.cos(9), table.sin(9), rotary, RopePairing::kRotateHalf);
  for (int64_t i = rotary; i < head_dim; ++i) EXPECT_EQ(x[size_t(i)], before[size_t(i)]);
  EXPECT_NE(x[0], before[0]);
}

TEST(Rope, LinearScalingDividesFrequencies) {
  RopeParams scaled = params(32);
  scaled.scaling.type = RopeScalingType::kLinear;
  scaled.scaling.factor = 4.0;
  const auto stretched = rope_frequencies(scaled, 1).inv_freq;
  const auto plain = rope_frequencies(params(32), 1).inv_freq;
  for (size_t j = 0; j < 16; ++j) EXPECT_FLOAT_EQ(stretched[j] * 4.0f, plain[j]);
}

TEST(Rope, DynamicNtkKeepsTheBaseUpToTheTrainingContext) {
  RopeParams p = params(64);
  p.max_position_embeddings = 256;
  p.scaling.type = RopeScalingType::kDynamic;
  p.scaling.factor = 4.0;
  EXPECT_EQ(rope_frequencies(p, 100).base, 10000.0);
  EXPECT_EQ(rope_frequencies(p, 256).base, 10000.0);
  EXPECT_GT(rope_frequencies(p, 1024).base, 10000.0);
  p.scaling.factor = 3.7;  // (s L / L_max) - (s - 1) is not exactly 1 in floating point; the base still must be
  EXPECT_EQ(rope_frequencies(p, 256).base, 10000.0);
}

TEST(Rope, YarnTreatsAZeroMscaleAsAbsent) {
  // transformers tests `if mscale and mscale_all_dim`: a 0 (a DeepSeek-lineage default) falls back to g(s, 1).
  RopeParams p = params(64);
  p.scaling.type = RopeScalingType::kYarn;
  p.scaling.factor = 16.0;
  p.scaling.mscale = 0.707;
  p.scaling.mscale_all_dim = 0.0;
  EXPECT_FLOAT_EQ(rope_frequencies(p, 1).attention_factor, float(yarn_magnitude(16.0, 1.0)));
}

}  // namespace
}  // namespace dsmoe
