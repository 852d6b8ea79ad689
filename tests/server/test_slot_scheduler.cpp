// The server's SlotScheduler on the shipped model, driven from several threads as HTTP handlers drive it (and run
// under ThreadSanitizer in CI): jobs finish with the text each gives alone, a cancelled job stops early, a full
// queue refuses, and shutting down ends every job.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "dsmoe/generator.h"
#include "dsmoe/prompt.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"
#include "server/slot_scheduler.h"

namespace dsmoe::server {
namespace {

const std::string kShipped = std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m";

JobSpec spec_for(const Model& model, const std::string& prompt, int64_t max_tokens, uint64_t seed) {
  JobSpec spec;
  spec.prompt = prompt_tokens(*model.tokenizer(), prompt);
  spec.max_tokens = max_tokens;
  spec.sampling.seed = seed;
  return spec;
}

// Takes a job's updates until it finishes: its whole text and final statistics.
std::pair<std::string, GenerationStats> drain(Job& job) {
  std::string text;
  for (;;) {
    JobUpdate update = job.take(1000);
    text += update.text;
    if (update.finished) {
      EXPECT_EQ(update.error, "");
      return {text, update.stats};
    }
  }
}

std::string alone(const Model& model, const JobSpec& spec) {
  Generator generator(model, *model.tokenizer(), 256);
  Sampler sampler(spec.sampling);
  GenerationRequest request;
  request.tokens = spec.prompt;
  request.max_new_tokens = spec.max_tokens;
  request.end_tokens = end_tokens(model);
  std::string text;
  generator.generate(request, sampler, [&](std::string_view t) { text += t; });
  return text;
}

TEST(SlotScheduler, JobsFromManyThreadsGiveWhatEachGivesAlone) {
  const auto model = Model::load(kShipped);
  const char* prompts[] = {"In the beginning", "And God said", "Who was Moses?", "Let there be light",
                           "The LORD is my shepherd", "And it came to pass"};
  std::vector<JobSpec> specs;
  for (size_t i = 0; i < std::size(prompts); ++i) specs.push_back(spec_for(*model, prompts[i], 24, 100 + i));
  SlotScheduler scheduler(*model, *model->tokenizer(), end_tokens(*model), /*slots=*/3, /*context=*/256,
                          /*queue=*/16);
  std::vector<std::string> texts(specs.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < specs.size(); ++i) {
    clients.emplace_back([&, i] {
      auto job = std::make_shared<Job>(specs[i]);
      ASSERT_TRUE(scheduler.submit(job));
      texts[i] = drain(*job).first;
    });
  }
  for (auto& client : clients) client.join();
  for (size_t i = 0; i < specs.size(); ++i) EXPECT_EQ(texts[i], alone(*model, specs[i])) << prompts[i];
  const SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.jobs_finished, int64_t(specs.size()));
  EXPECT_EQ(stats.busy_slots, 0);
}

TEST(SlotScheduler, CancelStopsAJobAndAFullQueueRefuses) {
  const auto model = Model::load(kShipped);
  // A long context, so that the endless job is still running when it is cancelled, however loaded the machine.
  SlotScheduler scheduler(*model, *model->tokenizer(), end_tokens(*model), /*slots=*/1, /*context=*/4096,
                          /*queue=*/1);
  JobSpec endless = spec_for(*model, "In the beginning", -1, 1);
  endless.sampling.suppress_tokens = end_tokens(*model);  // runs until the context is full unless cancelled
  auto running = std::make_shared<Job>(endless);
  ASSERT_TRUE(scheduler.submit(running));
  while (running->take(1000).text.empty()) {
  }
  auto waiting = std::make_shared<Job>(spec_for(*model, "And God said", 4, 2));
  ASSERT_TRUE(scheduler.submit(waiting));
  EXPECT_FALSE(scheduler.submit(std::make_shared<Job>(spec_for(*model, "Amen", 4, 3))));  // slot busy, queue full
  running->cancel();
  const auto [text, stats] = drain(*running);
  EXPECT_EQ(stats.reason, StopReason::kCancelled);
  EXPECT_LT(stats.generated_tokens, 4000);
  EXPECT_EQ(drain(*waiting).second.generated_tokens, 4);  // the freed slot takes the queued job
}

TEST(SlotScheduler, ShuttingDownEndsRunningAndQueuedJobs) {
  const auto model = Model::load(kShipped);
  SlotScheduler scheduler(*model, *model->tokenizer(), end_tokens(*model), /*slots=*/1, /*context=*/4096,
                          /*queue=*/4);
  JobSpec endless = spec_for(*model, "In the beginning", -1, 1);
  endless.sampling.suppress_tokens = end_tokens(*model);
  auto running = std::make_shared<Job>(endless);
  auto queued = std::make_shared<Job>(spec_for(*model, "And God said", 8, 2));
  ASSERT_TRUE(scheduler.submit(running));
  ASSERT_TRUE(scheduler.submit(queued));
  std::thread stopper([&] { scheduler.shut_down(); });
  EXPECT_EQ(drain(*running).second.reason, StopReason::kCancelled);
  EXPECT_EQ(drain(*queued).second.reason, StopReason::kCancelled);
  stopper.join();
  EXPECT_FALSE(scheduler.submit(std::make_shared<Job>(spec_for(*model, "Amen", 4, 3))));
}

}  // namespace
}  // namespace dsmoe::server
