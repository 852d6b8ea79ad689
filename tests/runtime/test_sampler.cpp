// The sampler against its definition: each filter computed here independently in double, and the
// draws' frequencies against the resulting probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "dsmoe/sampler.h"

namespace dsmoe {
namespace {

// The four values most tests vary; the rest keep their defaults.
SamplingParams params(float temperature, int64_t top_k, float top_p, float min_p) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  return p;
}

std::vector<float> random_logits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(n);
  for (auto& v : logits) v = normal(rng);
  return logits;
}

// The distribution after temperature, top-k, top-p and min-p, written out plainly.
std::map<int32_t, double> expected_distribution(const std::vector<float>& logits, const SamplingParams& p) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  if (p.top_k > 0) order.resize(std::min(order.size(), size_t(p.top_k)));
  std::vector<double> prob;
  for (int32_t t : order)
    prob.push_back(std::exp((double(logits[size_t(t)]) - logits[size_t(order[0])]) / p.temperature));
  const double z = std::accumulate(prob.begin(), prob.end(), 0.0);
  for (auto& q : prob) q /= z;
  size_t keep = 0;
  double mass = 0;
  while (keep < prob.size() && (keep == 0 || mass < p.top_p)) mass += prob[keep++];
  size_t min_p_keep = 0;
  while (min_p_keep < keep && prob[min_p_keep] >= p.min_p * prob[0]) ++min_p_keep;
  keep = std::max<size_t>(1, std::min(keep, min_p_keep));
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += prob[i];
  std::map<int32_t, double> out;
  for (size_t i = 0; i < keep; ++i) out[order[i]] = prob[i] / kept;
  return out;
}

TEST(Sampler, GreedyIsArgmax) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto logits = random_logits(500, seed);
  SamplingParams p;
  p.temperature = 0.0f;
  p.seed = seed;
  Sampler sampler(p);
  const int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sampler.sample(logits, {}), best);
  p.temperature = 1.5f;
  p.top_k = 1;
  Sampler top1(p);
  EXPECT_EQ(top1.sample(logits, {}), best);
}

TEST(Sampler, CandidatesFollowTheFilters) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto logits = random_logits(300, seed);
  for (SamplingParams p : {params(0.7f, 40, 0.9f, 0.0f), params(1.3f, 0, 0.8f, 0.05f),
                           params(1.0f, 10, 1.0f, 0.2f), params(0.8f, 40, 0.95f, 0.05f)}) {
    const auto want = expected_distribution(logits, p);
    const auto got = Sampler(p).candidates(logits, {});
    ASSERT_EQ(got.size(), want.size()) << "T " << p.temperature << " k " << p.top_k << " p " << p.top_p;
    for (const auto& [token, probability] : got) {
      ASSERT_TRUE(want.count(token));
      EXPECT_NEAR(probability, want.at(token), 1e-5);
    }
  }
}

TEST(Sampler, DrawFrequenciesMatchProbabilities) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 1.7f};
  SamplingParams p = params(1.0f, 0, 1.0f, 0.0f);
  p.seed = std::random_device{}();
  Sampler sampler(p);
  const auto want = expected_distribution(logits, p);
  const int draws = 40000;
  std::map<int32_t, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[sampler.sample(logits, {})];
  for (const auto& [token, probability] : want) {
    const double sigma = std::sqrt(probability * (1 - probability) / draws);
    EXPECT_NEAR(double(counts[token]) / draws, probability, 5 * sigma) << "token " << token;
  }
}

TEST(Sampler, SameSeedSameTokens) {
  const auto logits = random_logits(100, 3);
  SamplingParams p;
  p.seed = 42;
  Sampler a(p), b(p);
  p.seed = 43;
  Sampler c(p);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    const int32_t x = a.sample(logits, {});
    EXPECT_EQ(x, b.sample(logits, {}));
    differ += x != c.sample(logits, {});
  }
  EXPECT_GT(differ, 0);
}

TEST(Sampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  const std::vector<float> logits = {2.0f, -1.0f, 1.9f, 0.5f};
  SamplingParams p = params(1.0f, 0, 1.0f, 0.0f);
  p.repeat_penalty = 2.0f;
  const std::vector<int32_t> history = {0, 1, 0};  // token 0 twice: penalised once
  const auto got = Sampler(p).candidates(logits, history);
  const auto want = expected_distribution({1.0f, -2.0f, 1.9f, 0.5f}, p);
  for (const auto& [token, probability] : got) EXPECT_NEAR(probability, want.at(token), 1e-6);
  p.repeat_last_n = 1;  // only the last token (0) is in the window
  const auto windowed = Sampler(p).candidates(logits, history);
  const auto want_windowed = expected_distribution({1.0f, -1.0f, 1.9f, 0.5f}, p);
  for (const auto& [token, probability] : windowed) EXPECT_NEAR(probability, want_windowed.at(token), 1e-6);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesSubtractPerCount) {
  const std::vector<float> logits = {2.0f, -1.0f, 1.9f, 0.5f};
  SamplingParams p = params(1.0f, 0, 1.0f, 0.0f);
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  const std::vector<int32_t> history = {0, 1, 0, 3};  // counts: token 0 twice, 1 and 3 once, 2 never
  const auto got = Sampler(p).candidates(logits, history);
  // logit - count x frequency - presence for each token seen.
  const auto want = expected_distribution({2.0f - 2 * 0.25f - 0.5f, -1.0f - 0.25f - 0.5f, 1.9f, 0.5f - 0.25f - 0.5f}, p);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [token, probability] : got) EXPECT_NEAR(probability, want.at(token), 1e-6);
}

TEST(Sampler, SuppressedTokensAreNeverDrawn) {
  const std::vector<float> logits = {2.0f, -1.0f, 1.9f, 0.5f};
  SamplingParams p = params(1.0f, 0, 1.0f, 0.0f);
  p.suppress_tokens = {0, 2};
  for (const auto& [token, probability] : Sampler(p).candidates(logits, {})) {
    EXPECT_TRUE(token == 1 || token == 3 || probability == 0.0f) << token;
  }
  p.temperature = 0.0f;  // greedy: the best of what is left
  EXPECT_EQ(Sampler(p).sample(logits, {}), 3);
}

}  // namespace
}  // namespace dsmoe
