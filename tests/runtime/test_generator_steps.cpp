// Generator's stepwise form (begin/step), which a server interleaves across slots, against generate() on the
// shipped model: the same tokens and text, the on_token hook seeing the logits each token was drawn from, and two
// generations stepped in turn giving what each gives alone (a request's text must not depend on its neighbours).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "dsmoe/generator.h"
#include "dsmoe/prompt.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

const std::string kShipped = std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m";

struct Reply {
  std::vector<int32_t> tokens;
  std::string text;
  StopReason reason = StopReason::kMaxTokens;
};

GenerationRequest request_for(const Model& model, const std::string& prompt, int64_t n) {
  GenerationRequest request;
  request.tokens = prompt_tokens(*model.tokenizer(), prompt);
  request.max_new_tokens = n;
  request.end_tokens = end_tokens(model);
  return request;
}

Reply whole(const Model& model, const GenerationRequest& request, const SamplingParams& params) {
  Generator generator(model, *model.tokenizer(), 256);
  Sampler sampler(params);
  Reply reply;
  const GenerationStats stats = generator.generate(request, sampler, [&](std::string_view t) { reply.text += t; });
  reply.tokens = stats.generated;
  reply.reason = stats.reason;
  return reply;
}

TEST(GeneratorSteps, StepsGiveWhatGenerateGivesAndOnTokenSeesTheLogitsOfEachDraw) {
  const auto model = Model::load(kShipped);
  SamplingParams greedy;
  greedy.temperature = 0;
  GenerationRequest request = request_for(*model, "In the beginning", 24);
  const Reply expected = whole(*model, request, greedy);
  ASSERT_FALSE(expected.tokens.empty());

  int64_t hooked = 0;
  request.on_token = [&](int32_t token, std::span<const float> logits) {
    EXPECT_EQ(int64_t(logits.size()), model->info().vocab_size);
    EXPECT_EQ(token, argmax(logits)) << "token " << hooked;  // greedy: the draw is the argmax of what the hook sees
    ++hooked;
  };
  Generator generator(*model, *model->tokenizer(), 256);
  Sampler sampler(greedy);
  std::string text;
  generator.begin(request, sampler, [&](std::string_view t) { text += t; });
  int64_t steps = 0;
  while (generator.step()) ++steps;
  EXPECT_FALSE(generator.running());
  EXPECT_EQ(generator.stats().generated, expected.tokens);
  EXPECT_EQ(text, expected.text);
  EXPECT_EQ(generator.stats().reason, expected.reason);
  EXPECT_EQ(hooked, int64_t(expected.tokens.size()));
  EXPECT_FALSE(generator.step());  // a finished generation stays finished
}

TEST(GeneratorSteps, TwoGenerationsSteppedInTurnGiveWhatEachGivesAlone) {
  const auto model = Model::load(kShipped);
  SamplingParams params;
  params.seed = 7;
  const GenerationRequest first = request_for(*model, "And God said", 40);
  const GenerationRequest second = request_for(*model, "The LORD is my shepherd", 40);
  const Reply alone_first = whole(*model, first, params);
  const Reply alone_second = whole(*model, second, params);

  Generator a(*model, *model->tokenizer(), 256), b(*model, *model->tokenizer(), 256);
  Sampler sampler_a(params), sampler_b(params);
  std::string text_a, text_b;
  a.begin(first, sampler_a, [&](std::string_view t) { text_a += t; });
  b.begin(second, sampler_b, [&](std::string_view t) { text_b += t; });
  bool more_a = true, more_b = true;
  while (more_a || more_b) {
    if (more_a) more_a = a.step();
    if (more_b) more_b = b.step();
  }
  EXPECT_EQ(a.stats().generated, alone_first.tokens);
  EXPECT_EQ(text_a, alone_first.text);
  EXPECT_EQ(b.stats().generated, alone_second.tokens);
  EXPECT_EQ(text_b, alone_second.text);
}

}  // namespace
}  // namespace dsmoe
