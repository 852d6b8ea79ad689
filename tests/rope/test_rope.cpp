// RoPE against its definition in double precision: angles, the growing table, both pairings,
// partial rotary, linear scaling, and the relative-position property that makes it RoPE.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "rope/rope.h"

namespace dsmoe {
namespace {

RopeParams params(int64_t dim, RopePairing pairing = RopePairing::kRotateHalf) {
  RopeParams p;
  p.rotary_dim = dim;
  p.theta = 10000.0;
  p.pairing = pairing;
  return p;
}

TEST(Rope, InverseFrequenciesFollowTheta) {
  const auto inv = rope_inv_freq(params(128));
  ASSERT_EQ(inv.size(), 64u);
  for (size_t j = 0; j < inv.size(); ++j) {
    const double want = std::pow(10000.0, -2.0 * double(j) / 128.0);
    EXPECT_NEAR(inv[j] / want, 1.0, 1e-6) << j;
  }
}

TEST(Rope, TableMatchesDoubleAnglesWithinFloat32Recipe) {
  RopeCache cache(params(128));
  cache.reserve(4096);
  const auto inv = rope_inv_freq(params(128));
  double worst = 0;
  for (int64_t p : {0, 1, 17, 255, 1000, 4095}) {
    for (int64_t j = 0; j < 64; ++j) {
      const double angle = double(p) * std::pow(10000.0, -2.0 * double(j) / 128.0);
      worst = std::max(worst, std::fabs(cache.cos(p)[j] - std::cos(angle)));
      worst = std::max(worst, std::fabs(cache.sin(p)[j] - std::sin(angle)));
      // Bit-exact to HF's float32 recipe: float(p) * inv_freq rounded to float32, then cos.
      EXPECT_EQ(cache.cos(p)[j], std::cos(float(p) * inv[size_t(j)]));
    }
  }
  // DEEPSEEK.md measures the float32 recipe's drift from exact angles: 2.3e-4 at n = 4096.
  EXPECT_LT(worst, 3e-4);
}

TEST(Rope, GrowingTheTableKeepsEarlierRows) {
  RopeCache small(params(64));
  small.reserve(10);
  const float cos_5 = small.cos(5)[3];
  small.reserve(5000);  // far past any max_position_embeddings
  RopeCache fresh(params(64));
  fresh.reserve(5000);
  EXPECT_EQ(small.cos(5)[3], cos_5);
  EXPECT_GE(small.size(), 5000);
  EXPECT_EQ(small.sin(4999)[31], fresh.sin(4999)[31]);
}

TEST(Rope, InterleavedIsRotateHalfWithPermutedCoordinates) {
  const int64_t d = 16, heads = 3;
  RopeCache cache(params(d));
  cache.reserve(50);
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal;
  std::vector<float> half(size_t(heads * d)), inter(half.size());
  for (float& v : half) v = normal(rng);
  // Coordinate j of the half-split layout is 2j (first half) or 2(j - d/2) + 1 (second half) interleaved.
  auto interleaved_index = [d](int64_t j) { return j < d / 2 ? 2 * j : 2 * (j - d / 2) + 1; };
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < d; ++j) inter[size_t(h * d + interleaved_index(j))] = half[size_t(h * d + j)];
  }
  rope_apply(half.data(), heads, d, cache.cos(37), cache.sin(37), d, RopePairing::kRotateHalf);
  rope_apply(inter.data(), heads, d, cache.cos(37), cache.sin(37), d, RopePairing::kInterleaved);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < d; ++j) EXPECT_EQ(inter[size_t(h * d + interleaved_index(j))], half[size_t(h * d + j)]);
  }
}

TEST(Rope, DotProductDependsOnlyOnRelativePosition) {
  const int64_t d = 32;
  RopeCache cache(params(d));
  cache.reserve(400);
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal;
  std::vector<float> q(d), k(d);
  for (auto& v : q) v = normal(rng);
  for (auto& v : k) v = normal(rng);
  auto rotated_dot = [&](int64_t m, int64_t n) {
    auto qm = q, kn = k;
    rope_apply(qm.data(), 1, d, cache.cos(m), cache.sin(m), d, RopePairing::kRotateHalf);
    rope_apply(kn.data(), 1, d, cache.cos(n), cache.sin(n), d, RopePairing::kRotateHalf);
    double dot = 0;
    for (int64_t i = 0; i < d; ++i) dot += double(qm[size_t(i)]) * kn[size_t(i)];
    return dot;
  };
  const double base = rotated_dot(10, 3);
  EXPECT_NEAR(rotated_dot(300, 293), base, 2e-3 * std::fabs(base) + 1e-3);
  EXPECT_NEAR(rotated_dot(7, 0), base, 1e-4 * std::fabs(base) + 1e-5);
}

TEST(Rope, PartialRotaryLeavesTheTailAlone) {
  const int64_t head_dim = 12, rotary = 8;
  RopeCache cache(params(rotary));
  cache.reserve(10);
  std::vector<float> x(head_dim);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) + 1.0f;
  const auto before = x;
  rope_apply(x.data(), 1, head_dim, cache.cos(9), cache.sin(9), rotary, RopePairing::kRotateHalf);
  for (int64_t i = rotary; i < head_dim; ++i) EXPECT_EQ(x[size_t(i)], before[size_t(i)]);
  EXPECT_NE(x[0], before[0]);
}

TEST(Rope, LinearScalingDividesPositions) {
  RopeParams scaled = params(32);
  scaled.scaling.type = RopeScalingType::kLinear;
  scaled.scaling.factor = 4.0;
  RopeCache stretched(scaled);
  RopeCache plain(params(32));
  stretched.reserve(100);
  plain.reserve(100);
  for (int64_t j = 0; j < 16; ++j) EXPECT_EQ(stretched.cos(80)[j], plain.cos(20)[j]);
}

}  // namespace
}  // namespace dsmoe
