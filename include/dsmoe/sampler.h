// Picking the next token from logits: suppressed tokens, repetition, presence and frequency penalties,
// temperature, top-k, top-p, min-p, then a draw from a seeded generator, so the same seed gives the same text.
// Temperature 0 is greedy.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace dsmoe {

// Defaults are llama.cpp's.
struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy (argmax)
  int64_t top_k = 40;           // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off; keeps tokens with p >= min_p * p_max
  float repeat_penalty = 1.0f;  // 1: off; > 1 discourages the last repeat_last_n tokens (CTRL-style)
  int64_t repeat_last_n = 64;   // the window of the three penalties; < 0: the whole history
  uint64_t seed = 0;
  // OpenAI's and llama.cpp's penalties over the same window: logit -= frequency x count + presence x (count > 0).
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<int32_t> suppress_tokens;  // never drawn (HF's suppress_tokens; --ignore-eos puts the end tokens here)
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // history: the tokens so far (prompt and generated), for the repetition penalty.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  // The distribution sample() draws from, as (token, probability) sorted by decreasing probability;
  // exposed for tests and for people studying a sampler setting.
  std::vector<std::pair<int32_t, float>> candidates(std::span<const float> logits,
                                                    std::span<const int32_t> history) const;

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

int32_t argmax(std::span<const float> logits);  // ties go to the lower id

}  // namespace dsmoe
