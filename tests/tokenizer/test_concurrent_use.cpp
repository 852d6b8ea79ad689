// One tokenizer and one chat template used by several threads at once, as the server's slots will use them:
// the results equal those of one thread (the word cache is shared under a mutex; each render has its own state).
// The ThreadSanitizer build runs these (scripts/test).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "dsmoe/chat_template.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

constexpr int kThreads = 4;

std::vector<std::string> texts() {
  std::vector<std::string> out;
  for (int i = 0; i < 64; ++i) {
    out.push_back("And God said, Let there be light: and there was light " + std::to_string(i * 7919) +
                  (i % 3 == 0 ? " <｜end▁of▁sentence｜>" : "") + std::string(size_t(i % 5), ' ') + "\xe4\xbd\xa0");
  }
  return out;
}

TEST(ConcurrentUse, TokenizerEncodesAndDecodesOnManyThreadsAsOnOne) {
  const auto tokenizer = Tokenizer::load_dir(std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m");
  const std::vector<std::string> inputs = texts();
  std::vector<std::vector<int32_t>> want;
  for (const std::string& text : inputs) want.push_back(tokenizer->encode(text, true));
  // A fresh tokenizer for the threads, so that they fill its word cache while racing.
  const auto shared = Tokenizer::load_dir(std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m");
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          const size_t k = (i + size_t(t) * 17) % inputs.size();  // each thread in its own order
          const std::vector<int32_t> ids = shared->encode(inputs[k], true);
          if (ids != want[k] || shared->decode(ids, false) != tokenizer->decode(want[k], false)) ++mismatches[size_t(t)];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[size_t(t)], 0) << "thread " << t;
}

TEST(ConcurrentUse, OneChatTemplateRendersOnManyThreadsAsOnOne) {
  const ChatTemplate chat_template(
      "{% for m in messages %}{% set n = loop.index %}{{ n }}:{{ m.role | upper }}={{ m.content | trim }}"
      "{% if not loop.last %}|{% endif %}{% endfor %}{% if add_generation_prompt %}>{% endif %}");
  std::vector<nlohmann::json> contexts;
  std::vector<std::string> want;
  for (int i = 0; i < 32; ++i) {
    nlohmann::json messages = nlohmann::json::array();
    for (int m = 0; m <= i % 6; ++m) {
      messages.push_back({{"role", m % 2 ? "assistant" : "user"}, {"content", " turn " + std::to_string(i * 10 + m)}});
    }
    contexts.push_back({{"messages", messages}, {"add_generation_prompt", i % 2 == 0}});
    want.push_back(chat_template.render(contexts.back()));
  }
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < contexts.size(); ++i) {
          if (chat_template.render(contexts[i]) != want[i]) ++mismatches[size_t(t)];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[size_t(t)], 0) << "thread " << t;
  EXPECT_EQ(want[1], "1:USER=turn 10|2:ASSISTANT=turn 11");
}

}  // namespace
}  // namespace dsmoe
