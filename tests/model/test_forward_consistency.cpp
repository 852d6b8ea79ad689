// Properties of the C++ forward pass that need no oracle beyond itself: the thread count does not
// change a single bit, and prefill + one-token decoding equals one full pass.
#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"
#include "core/parallel.h"
#include "core/system_memory.h"
#include "support/bad_input.h"
#include "support/random_model.h"

namespace dsmoe {
namespace {

using testing::RandomModel;

ForwardResult full_pass(const Transformer& model, const std::vector<int32_t>& tokens, int64_t batch) {
  const int64_t n = int64_t(tokens.size()) / batch;
  KvCache cache(model.config(), batch, n);
  ForwardResult result;
  ForwardOptions options;
  options.hidden_states = true;
  options.routing = true;
  model.forward(tokens.data(), batch, n, cache, options, result);
  return result;
}

TEST(ForwardConsistency, BitIdenticalForOneAndManyThreads) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  // Wide enough that every matmul splits into many tasks, differently for each thread count.
  auto config_json = testing::tiny_deepseek_json();
  config_json["hidden_size"] = 128;
  config_json["intermediate_size"] = 176;
  config_json["moe_intermediate_size"] = 80;
  config_json["num_attention_heads"] = 8;
  config_json["num_key_value_heads"] = 8;
  RandomModel random(config_json, seed);
  const Transformer model = random.transformer();
  const auto tokens = testing::random_tokens(2 * 21, model.config().vocab_size, seed + 1);
  struct RestoreThreads {
    ~RestoreThreads() { set_num_threads(0); }
  } restore;
  set_num_threads(1);
  const ForwardResult one = full_pass(model, tokens, 2);
  for (int threads : {2, 3, 7}) {
    set_num_threads(threads);
    const ForwardResult many = full_pass(model, tokens, 2);
    ASSERT_EQ(one.logits.size(), many.logits.size());
    EXPECT_EQ(0, std::memcmp(one.logits.data(), many.logits.data(), one.logits.size() * sizeof(float)))
        << threads << " threads";
    EXPECT_EQ(
        0, std::memcmp(one.hidden_states.data(), many.hidden_states.data(), one.hidden_states.size() * sizeof(float)));
    EXPECT_EQ(one.routed_experts, many.routed_experts);
    EXPECT_EQ(one.routed_weights, many.routed_weights);
  }
}

TEST(ForwardConsistency, PrefillThenDecodeEqualsFullPass) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  auto config_json = testing::tiny_deepseek_json();
  config_json["num_key_value_heads"] = 2;  // grouped-query heads in the cache too
  RandomModel random(config_json, seed);
  const Transformer model = random.transformer();
  const int64_t batch = 2, n = 20, vocab = model.config().vocab_size;  // n > max_position_embeddings
  const auto tokens = testing::random_tokens(batch * n, vocab, seed + 1);
  const ForwardResult full = full_pass(model, tokens, batch);
  float max_abs = 0;
  for (float v : full.logits) max_abs = std::max(max_abs, std::fabs(v));

  for (int64_t prefill : {1, 4, 19}) {
    KvCache cache(model.config(), batch, n);
    std::vector<float> incremental(full.logits.size());
    for (int64_t start = 0; start < n;) {
      const int64_t step = start == 0 ? prefill : 1;
      std::vector<int32_t> chunk;
      for (int64_t b = 0; b < batch; ++b) {
        chunk.insert(chunk.end(), tokens.begin() + b * n + start, tokens.begin() + b * n + start + step);
      }
      ForwardResult r;
      model.forward(chunk.data(), batch, step, cache, ForwardOptions{}, r);
      for (int64_t b = 0; b < batch; ++b) {
        std::copy_n(r.logits.begin() + b * step * vocab, step * vocab, incremental.begin() + (b * n + start) * vocab);
      }
      start += step;
    }
    // Same kernels, different grouping of rows per call: agreement to float32 rounding.
    float max_diff = 0;
    for (size_t i = 0; i < incremental.size(); ++i)
      max_diff = std::max(max_diff, std::fabs(incremental[i] - full.logits[i]));
    EXPECT_LE(max_diff / max_abs, 1e-5f) << "prefill " << prefill;
  }
}

TEST(ForwardConsistency, LastPositionLogitsEqualTheFullRows) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomModel random(testing::tiny_deepseek_json(), seed);
  const Transformer model = random.transformer();
  const int64_t batch = 3, n = 7, vocab = model.config().vocab_size;
  const auto tokens = testing::random_tokens(batch * n, vocab, seed + 1);
  const ForwardResult full = full_pass(model, tokens, batch);
  KvCache cache(model.config(), batch, n);
  ForwardOptions last_only;
  last_only.all_logits = false;
  ForwardResult last;
  model.forward(tokens.data(), batch, n, cache, last_only, last);
  ASSERT_EQ(last.logits.size(), size_t(batch * vocab));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t v = 0; v < vocab; ++v) {
      EXPECT_EQ(last.logits[size_t(b * vocab + v)], full.logits[size_t(((b + 1) * n - 1) * vocab + v)]);
    }
  }
}

TEST(ForwardConsistency, RejectsTokensOutsideVocabularyAndOverlongInput) {
  RandomModel random(testing::tiny_deepseek_json(), 7);
  const Transformer model = random.transformer();
  KvCache cache(model.config(), 1, 4);
  ForwardResult r;
  const std::vector<int32_t> bad = {1, int32_t(model.config().vocab_size)};
  EXPECT_THROW(model.forward(bad.data(), 1, 2, cache, {}, r), Error);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(model.forward(negative.data(), 1, 1, cache, {}, r), Error);
  const std::vector<int32_t> too_long = {1, 2, 3, 4, 5};
  try {
    model.forward(too_long.data(), 1, 5, cache, {}, r);
    FAIL() << "no error for 5 tokens in a context of 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceed the context of 4"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.length(), 0);
}

// Logits for every position grow with the call: more than the machine holds is refused before any work, saying
// what was asked and what there is (issue 14), instead of an allocation the OOM killer ends.
TEST(ForwardConsistency, AllLogitsLargerThanMemoryAreRefusedFirst) {
  const int64_t available = available_memory_bytes();
  if (available < 0) GTEST_SKIP() << "the system does not report MemAvailable";
  nlohmann::json config = testing::tiny_deepseek_json();
  const int64_t vocab = int64_t(1) << 18;
  // Four times what is available: other tests running beside this one free and take memory meanwhile.
  const int64_t positions = 4 * (available / (vocab * int64_t(sizeof(float)))) + 1;
  config["vocab_size"] = vocab;
  config["max_position_embeddings"] = positions;
  RandomModel random(config, 3);
  const Transformer model = random.transformer();
  KvCache cache(model.config(), 1, positions, DType::F16);
  ForwardOptions options;
  options.all_logits = true;
  ForwardResult r;
  const std::vector<int32_t> tokens(size_t(positions), 1);
  bad_input::expect_error_containing([&] { model.forward(tokens.data(), 1, positions, cache, options, r); },
                                     {"forward: the results for", "MiB of memory available"});
  EXPECT_EQ(cache.length(), 0);
}

}  // namespace
}  // namespace dsmoe

namespace dsmoe {
namespace {

// The KV cache types against the float32 cache: decoding token by token through an F16, BF16 or Q8_0 cache
// moves the logits by the storage rounding of K and V (2^-11 relative for F16, 2^-8 for BF16, 1/254 of a
// block's largest value for Q8_0, whose query is quantized too), amplified through the layers. Over 30 seeds
// max |diff| / max |logit| reached 1.0e-3 (F16), 7.8e-3 (BF16), 3.1e-2 (Q8_0); the bounds are 3x that.
TEST(ForwardConsistency, CacheTypesStayCloseToFloat32) {
  const uint32_t seed = testing::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  auto config_json = testing::tiny_deepseek_json();
  config_json["hidden_size"] = 128;
  config_json["num_attention_heads"] = 4;
  config_json["num_key_value_heads"] = 4;  // head_dim 32: Q8_0 blocks fit
  config_json["first_k_dense_replace"] = 3;  // dense layers: a top-k routing flip would be a jump, not a rounding
  RandomModel random(config_json, seed);
  const Transformer model = random.transformer();
  const int64_t n = 24;
  const auto tokens = testing::random_tokens(n, model.config().vocab_size, seed + 1);
  auto decode_all = [&](DType type) {
    KvCache cache(model.config(), 1, n, type);
    ForwardResult result;
    std::vector<float> logits;
    for (int64_t i = 0; i < n; ++i) {
      model.forward(&tokens[size_t(i)], 1, 1, cache, ForwardOptions{}, result);
      logits.insert(logits.end(), result.logits.begin(), result.logits.end());
    }
    return logits;
  };
  const std::vector<float> exact = decode_all(DType::F32);
  float scale = 0;
  for (float v : exact) scale = std::max(scale, std::fabs(v));
  for (auto [type, bound] : {std::pair{DType::F16, 3e-3}, std::pair{DType::BF16, 2.5e-2}, std::pair{DType::Q8_0, 1e-1}}) {
    const std::vector<float> got = decode_all(type);
    float worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - exact[i]));
    EXPECT_LE(worst / scale, bound) << dtype_name(type);
    EXPECT_GT(worst, 0.0f) << dtype_name(type) << ": identical to F32, so the cache type was not used";
  }
}

}  // namespace
}  // namespace dsmoe
