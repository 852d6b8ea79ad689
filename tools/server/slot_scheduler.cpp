#include "server/slot_scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "dsmoe/error.h"

namespace dsmoe::server {
namespace {

// log softmax of the raw logits at `token`, and the `top` most likely tokens with theirs: in double, so that a
// probability of 1e-30 still has its logarithm.
TokenLogprob logprob_of(int32_t token, std::span<const float> logits, int top) {
  const float largest = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float x : logits) sum += std::exp(double(x) - double(largest));
  const double log_normalizer = double(largest) + std::log(sum);
  TokenLogprob out;
  out.token = token;
  out.logprob = float(double(logits[size_t(token)]) - log_normalizer);
  if (top > 0) {
    std::vector<int32_t> ids(logits.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i);
    const auto n = std::min<size_t>(size_t(top), ids.size());
    std::partial_sort(ids.begin(), ids.begin() + long(n), ids.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
    });
    for (size_t i = 0; i < n; ++i) {
      out.top.emplace_back(ids[i], float(double(logits[size_t(ids[i])]) - log_normalizer));
    }
  }
  return out;
}

}  // namespace

JobUpdate Job::take(int timeout_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return !pending_.text.empty() || !pending_.logprobs.empty() || pending_.finished; });
  JobUpdate out = std::move(pending_);
  pending_ = JobUpdate{};
  pending_.finished = out.finished;  // a finished job stays finished for a later call
  return out;
}

void Job::append_text(std::string_view text) {
  if (text.empty()) return;
  std::lock_guard lock(mutex_);
  pending_.text += text;
  pending_.pieces.emplace_back(text);
  changed_.notify_all();
}

void Job::append_logprob(TokenLogprob logprob) {
  std::lock_guard lock(mutex_);
  pending_.logprobs.push_back(std::move(logprob));
  changed_.notify_all();
}

void Job::finish(const GenerationStats& stats, std::string error) {
  std::lock_guard lock(mutex_);
  pending_.finished = true;
  pending_.stats = stats;
  pending_.error = std::move(error);
  changed_.notify_all();
}

struct SlotScheduler::Slot {
  Slot(const Model& model, const Tokenizer& tokenizer, int64_t context) : generator(model, tokenizer, context) {}
  Generator generator;
  std::shared_ptr<Job> job;  // null when free
  GenerationRequest request;
  std::optional<Sampler> sampler;
  bool failed = false;  // the job's prefill failed
};

SlotScheduler::SlotScheduler(const Model& model, const Tokenizer& tokenizer, std::vector<int32_t> end_tokens,
                             int64_t slots, int64_t context, int64_t queue_capacity)
    : model_(model), tokenizer_(tokenizer), end_tokens_(std::move(end_tokens)), context_(context),
      queue_capacity_(queue_capacity) {
  for (int64_t i = 0; i < slots; ++i) slots_.push_back(std::make_unique<Slot>(model, tokenizer, context));
  totals_.slots = slots;
  totals_.queue_capacity = queue_capacity;
  thread_ = std::thread([this] { run(); });
}

SlotScheduler::~SlotScheduler() {
  shut_down();
  thread_.join();
}

bool SlotScheduler::submit(const std::shared_ptr<Job>& job) {
  std::lock_guard lock(mutex_);
  if (stopping_ || int64_t(queue_.size()) >= queue_capacity_) return false;
  queue_.push_back(job);
  wake_.notify_all();
  return true;
}

void SlotScheduler::shut_down() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  for (const auto& job : queue_) {
    job->cancel();
    GenerationStats stats;
    stats.reason = StopReason::kCancelled;
    job->finish(stats);
  }
  queue_.clear();
  for (const auto& slot : slots_) {
    if (slot->job) slot->job->cancel();
  }
  wake_.notify_all();
}

SchedulerStats SlotScheduler::stats() const {
  std::lock_guard lock(mutex_);
  SchedulerStats out = totals_;
  out.queued = int64_t(queue_.size());
  return out;
}

void SlotScheduler::run() {
  std::vector<std::pair<Slot*, std::shared_ptr<Job>>> starting;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || totals_.busy_slots > 0; });
      if (stopping_ && totals_.busy_slots == 0) return;
      // Each queued job, oldest first, to the free slot whose cache shares the longest prefix with its prompt.
      while (!queue_.empty() && totals_.busy_slots < totals_.slots) {
        std::shared_ptr<Job> job = std::move(queue_.front());
        queue_.pop_front();
        Slot* best = nullptr;
        size_t best_shared = 0;
        for (const auto& slot : slots_) {
          if (slot->job) continue;
          const std::vector<int32_t>& cached = slot->generator.cached_tokens();
          const std::vector<int32_t>& prompt = job->spec().prompt;
          const size_t shared =
              size_t(std::mismatch(cached.begin(), cached.end(), prompt.begin(), prompt.end()).first - cached.begin());
          if (best == nullptr || shared > best_shared) {
            best = slot.get();
            best_shared = shared;
          }
        }
        best->job = job;
        ++totals_.busy_slots;
        starting.emplace_back(best, std::move(job));
      }
    }
    for (auto& [slot, job] : starting) start(*slot, std::move(job));
    starting.clear();
    decode_step();
  }
}

void SlotScheduler::release(Slot& slot) {
  std::lock_guard lock(mutex_);
  slot.job.reset();
  --totals_.busy_slots;
  ++totals_.jobs_finished;
}

void SlotScheduler::finish(Slot& slot) {
  const GenerationStats& stats = slot.generator.stats();
  {
    std::lock_guard lock(mutex_);
    totals_.generated_tokens += stats.generated_tokens;
  }
  slot.job->finish(stats);
  release(slot);
}

void SlotScheduler::decode_step() {
  // Every active slot draws its next token; those still going are fed together in one forward pass.
  step_slots_.clear();
  step_sessions_.clear();
  step_tokens_.clear();
  for (const auto& owned : slots_) {
    Slot& slot = *owned;
    if (!slot.job) continue;
    if (slot.failed) {  // start() reported the error already
      slot.failed = false;
      release(slot);
      continue;
    }
    try {
      if (slot.generator.draw()) {
        step_slots_.push_back(&slot);
        step_sessions_.push_back(&slot.generator.session());
        step_tokens_.push_back(slot.generator.pending_token());
        continue;
      }
    } catch (const std::exception& error) {
      slot.job->finish(GenerationStats{}, error.what());
      release(slot);
      continue;
    }
    finish(slot);
  }
  if (step_slots_.empty()) return;
  try {
    Session::forward_together(step_sessions_, step_tokens_, step_result_);
  } catch (const std::exception& error) {
    for (Slot* slot : step_slots_) {
      slot->job->finish(GenerationStats{}, error.what());
      release(*slot);
    }
    return;
  }
  const auto vocab = step_result_.logits.size() / step_slots_.size();
  for (size_t i = 0; i < step_slots_.size(); ++i) {
    step_slots_[i]->generator.fed(std::span<const float>(step_result_.logits.data() + i * vocab, vocab));
  }
}

void SlotScheduler::start(Slot& slot, std::shared_ptr<Job> job) {
  const JobSpec& spec = job->spec();
  slot.request = GenerationRequest{};
  slot.request.tokens = spec.prompt;
  slot.request.max_new_tokens = spec.max_tokens;
  slot.request.stop_strings = spec.stop;
  slot.request.end_tokens = end_tokens_;
  slot.request.cancel = job->cancel_flag();
  if (spec.top_logprobs >= 0) {
    Job* target = job.get();
    const int top = spec.top_logprobs;
    const std::vector<int32_t>* ends = &end_tokens_;
    slot.request.on_token = [target, top, ends](int32_t token, std::span<const float> logits) {
      // An end token ends the answer without being part of it, so it has no entry (OpenAI's neither).
      if (std::find(ends->begin(), ends->end(), token) != ends->end()) return;
      target->append_logprob(logprob_of(token, logits, top));
    };
  }
  slot.sampler.emplace(spec.sampling);
  try {
    Job* target = job.get();
    slot.generator.begin(slot.request, *slot.sampler, [target](std::string_view text) { target->append_text(text); });
    const GenerationStats& stats = slot.generator.stats();
    std::lock_guard lock(mutex_);
    totals_.prompt_tokens += stats.prompt_tokens;
    totals_.reused_tokens += stats.reused_tokens;
  } catch (const std::exception& error) {
    job->finish(GenerationStats{}, error.what());
    slot.failed = true;  // decode_step() frees the slot
  }
}

}  // namespace dsmoe::server
