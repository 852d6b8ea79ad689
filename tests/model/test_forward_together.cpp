// Continuous batching's forward pass: one token for each of several sessions at different positions, in one pass
// whose weights are read once, gives each session bit for bit the logits of its own forward() (the server's
// promise that a request's text does not depend on its neighbours), on 1 and 2 threads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "dsmoe/prompt.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

const std::string kShipped = std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m";

TEST(ForwardTogether, EachSessionGetsTheLogitsOfItsOwnForwardBitForBit) {
  const auto model = Model::load(kShipped);
  const Tokenizer& tokenizer = *model->tokenizer();
  const char* prompts[] = {"In the beginning", "And God said, Let there be light: and there was light.", "Amen"};
  for (const int threads : {1, 2}) {
    set_num_threads(threads);
    std::vector<std::unique_ptr<Session>> together, alone;
    for (const char* prompt : prompts) {
      const std::vector<int32_t> ids = prompt_tokens(tokenizer, prompt);
      for (auto* group : {&together, &alone}) {
        group->push_back(std::make_unique<Session>(*model, 1, 128));
        group->back()->forward(ids);
      }
    }
    std::vector<Session*> sessions;
    for (const auto& s : together) sessions.push_back(s.get());
    std::vector<int32_t> next = {17, 250, 3};  // three steps of decoding, each session at its own position
    for (int step = 0; step < 3; ++step) {
      ForwardResult batched;
      Session::forward_together(sessions, next, batched);
      const int64_t vocab = model->info().vocab_size;
      ASSERT_EQ(int64_t(batched.logits.size()), int64_t(sessions.size()) * vocab);
      ForwardOptions last_only;
      last_only.all_logits = false;
      for (size_t i = 0; i < sessions.size(); ++i) {
        const ForwardResult own = alone[i]->forward({next[i]}, last_only);
        const std::vector<float> row(batched.logits.begin() + long(i) * vocab,
                                     batched.logits.begin() + long(i + 1) * vocab);
        EXPECT_EQ(row, own.logits) << "session " << i << ", step " << step << ", " << threads << " threads";
        EXPECT_EQ(sessions[i]->position(), alone[i]->position());
        next[i] = int32_t(std::max_element(row.begin(), row.end()) - row.begin());
      }
    }
  }
  set_num_threads(0);
}

TEST(ForwardTogether, RefusesMismatchedInput) {
  const auto model = Model::load(kShipped);
  Session a(*model, 1, 8), b(*model, 1, 8), wide(*model, 2, 8);
  ForwardResult result;
  std::vector<Session*> two = {&a, &b};
  EXPECT_THROW(Session::forward_together(two, std::vector<int32_t>{1}, result), Error);
  std::vector<Session*> same = {&a, &a};
  EXPECT_THROW(Session::forward_together(same, std::vector<int32_t>{1, 2}, result), Error);
  std::vector<Session*> with_wide = {&a, &wide};
  EXPECT_THROW(Session::forward_together(with_wide, std::vector<int32_t>{1, 2}, result), Error);
}

}  // namespace
}  // namespace dsmoe
