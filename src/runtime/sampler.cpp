#include "dsmoe/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace dsmoe {

int32_t argmax(std::span<const float> logits) {
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

std::vector<std::pair<int32_t, float>> Sampler::candidates(std::span<const float> logits,
                                                           std::span<const int32_t> history) const {
  std::vector<float> adjusted(logits.begin(), logits.end());
  for (const int32_t token : params_.suppress_tokens) {
    if (token >= 0 && size_t(token) < adjusted.size()) adjusted[size_t(token)] = -std::numeric_limits<float>::infinity();
  }
  const bool penalised = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                         params_.frequency_penalty != 0.0f;
  if (penalised && params_.repeat_last_n != 0) {
    const size_t window =
        params_.repeat_last_n < 0 ? history.size() : std::min(history.size(), size_t(params_.repeat_last_n));
    std::unordered_map<int32_t, int64_t> counts;
    for (auto it = history.end() - long(window); it != history.end(); ++it) ++counts[*it];
    for (const auto& [token, count] : counts) {
      if (token < 0 || size_t(token) >= adjusted.size()) continue;
      float& logit = adjusted[size_t(token)];
      // CTRL (Keskar et al. 2019) as llama.cpp and HF apply it: each distinct recent token once.
      logit = logit > 0 ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
      logit -= float(count) * params_.frequency_penalty + params_.presence_penalty;
    }
  }
  if (params_.temperature <= 0.0f) return {{argmax(adjusted), 1.0f}};

  // HF's order: temperature, then top-k, top-p and min-p on the tempered distribution.
  std::vector<std::pair<int32_t, float>> ranked(adjusted.size());
  for (size_t i = 0; i < adjusted.size(); ++i) ranked[i] = {int32_t(i), adjusted[i] / params_.temperature};
  auto by_logit = [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  size_t keep = ranked.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < keep) {
    keep = size_t(params_.top_k);
    std::partial_sort(ranked.begin(), ranked.begin() + long(keep), ranked.end(), by_logit);
  } else {
    std::sort(ranked.begin(), ranked.end(), by_logit);
  }
  ranked.resize(keep);
  const float max_logit = ranked.front().second;
  double total = 0;
  for (auto& [token, value] : ranked) {
    value = std::exp(value - max_logit);
    total += value;
  }
  for (auto& entry : ranked) entry.second = float(entry.second / total);
  if (params_.top_p < 1.0f) {
    // Smallest prefix whose mass reaches top_p (at least one token).
    double mass = 0;
    size_t n = 0;
    while (n < ranked.size() && (n == 0 || mass < params_.top_p)) mass += ranked[n++].second;
    ranked.resize(n);
  }
  if (params_.min_p > 0.0f) {
    const float floor = params_.min_p * ranked.front().second;
    while (ranked.size() > 1 && ranked.back().second < floor) ranked.pop_back();
  }
  double kept = 0;
  for (const auto& entry : ranked) kept += entry.second;
  for (auto& entry : ranked) entry.second = float(entry.second / kept);
  return ranked;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const auto ranked = candidates(logits, history);
  if (ranked.size() == 1) return ranked.front().first;
  // A uniform draw from the top 53 bits: the same on every platform for the same seed.
  const double u = double(rng_() >> 11) * (1.0 / 9007199254740992.0);
  double cumulative = 0;
  for (const auto& [token, probability] : ranked) {
    cumulative += probability;
    if (u < cumulative) return token;
  }
  return ranked.back().first;
}

}  // namespace dsmoe
