// The server's slots: N generators, each with its own KV cache, fed from a bounded queue by one scheduler thread
// (forward passes share the library's thread pool, so one thread runs them all). A slot starts its job with one
// prefill, then every active slot's next token goes through one forward pass together (continuous batching: the
// weights are read once a step for all of them), so a new request starts while others are still answering. A
// job's results do not depend on its neighbours: a row of Session::forward_together is bit for bit its session's
// own forward pass, at any thread count, and each job has its own seeded sampler.
//
// A follow-up turn reuses a slot's cache: a new job goes to the free slot whose cached tokens share the longest
// prefix with its prompt, and the generator prefills only the rest.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "dsmoe/generator.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe::server {

// One generated token's log probability and the most likely alternatives (OpenAI's logprobs).
struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // (token, logprob), most likely first
};

// What a request asks the model to do, validated (openai_request.h builds it).
struct JobSpec {
  std::vector<int32_t> prompt;
  int64_t max_tokens = -1;  // < 0: until an end token or a full context
  std::vector<std::string> stop;
  SamplingParams sampling;
  int top_logprobs = -1;  // < 0: no log probabilities; 0..20: the sampled token's and that many alternatives
};

// What the scheduler hands back, step by step: text (complete UTF-8, stop strings held back), the tokens' log
// probabilities, and at the end the statistics.
struct JobUpdate {
  std::string text;
  std::vector<std::string> pieces;  // the same text as the generator handed it out, about a token a piece
  std::vector<TokenLogprob> logprobs;
  bool finished = false;
  GenerationStats stats;  // when finished
  std::string error;      // when the job failed (finished too)
};

class Job {
 public:
  explicit Job(JobSpec spec) : spec_(std::move(spec)) {}
  const JobSpec& spec() const { return spec_; }

  // The consumer's side: waits up to `timeout_ms` for what has come since the last call (an empty update with
  // finished false when nothing did).
  JobUpdate take(int timeout_ms);
  // The client is gone or the server stops: the scheduler ends the job before its next token.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // The scheduler's side.
  void append_text(std::string_view text);
  void append_logprob(TokenLogprob logprob);
  void finish(const GenerationStats& stats, std::string error = {});
  const std::atomic<bool>* cancel_flag() const { return &cancelled_; }

 private:
  JobSpec spec_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  JobUpdate pending_;
};

struct SchedulerStats {
  int64_t slots = 0;
  int64_t busy_slots = 0;
  int64_t queued = 0;
  int64_t queue_capacity = 0;
  int64_t prompt_tokens = 0;     // prefilled, over all jobs
  int64_t reused_tokens = 0;     // taken from a slot's cache instead
  int64_t generated_tokens = 0;
  int64_t jobs_finished = 0;
};

class SlotScheduler {
 public:
  SlotScheduler(const Model& model, const Tokenizer& tokenizer, std::vector<int32_t> end_tokens, int64_t slots,
                int64_t context, int64_t queue_capacity);
  ~SlotScheduler();  // cancels every job and joins the thread

  // Queues a job; false when the queue is full (the caller answers 503).
  bool submit(const std::shared_ptr<Job>& job);
  // Cancels every queued and running job and refuses new ones: the server is shutting down.
  void shut_down();
  SchedulerStats stats() const;
  int64_t context() const { return context_; }

 private:
  struct Slot;
  void run();
  void start(Slot& slot, std::shared_ptr<Job> job);
  void decode_step();           // one token for every active slot, in one forward pass
  void finish(Slot& slot);      // the slot's generation has stopped: report it and free the slot
  void release(Slot& slot);

  const Model& model_;
  const Tokenizer& tokenizer_;
  const std::vector<int32_t> end_tokens_;
  const int64_t context_;
  const int64_t queue_capacity_;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  SchedulerStats totals_;
  // decode_step's buffers, reused (the scheduler thread alone touches them).
  std::vector<Slot*> step_slots_;
  std::vector<Session*> step_sessions_;
  std::vector<int32_t> step_tokens_;
  ForwardResult step_result_;
  std::thread thread_;
};

}  // namespace dsmoe::server
