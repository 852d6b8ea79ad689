#include "dsmoe/generator.h"

#include <algorithm>
#include <chrono>

#include "core/errors.h"
#include "runtime/stop_strings.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* stop_reason_text(StopReason reason) {
  switch (reason) {
    case StopReason::kEndOfSequence:
      return "end of sequence";
    case StopReason::kStopString:
      return "stop string";
    case StopReason::kMaxTokens:
      return "token limit";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

Generator::Generator(const Model& model, const Tokenizer& tokenizer, int64_t context)
    : tokenizer_(tokenizer), session_(model, 1, context) {}

std::vector<float> Generator::feed_prompt(const std::vector<int32_t>& tokens, GenerationStats& stats) {
  if (tokens.empty()) fail("generate: empty prompt (no tokens to start from)");
  if (int64_t(tokens.size()) > session_.context()) {
    fail("generate: the prompt is ", tokens.size(), " tokens but the context holds ", session_.context(),
         " (raise --ctx or shorten the prompt)");
  }
  const auto mismatch = std::mismatch(cached_.begin(), cached_.end(), tokens.begin(), tokens.end());
  size_t keep = size_t(mismatch.first - cached_.begin());
  if (keep == tokens.size()) --keep;  // the last token must be fed again to get its logits
  session_.truncate(int64_t(keep));
  cached_.resize(keep);

  ForwardOptions last_only;
  last_only.all_logits = false;
  const std::vector<int32_t> fresh(tokens.begin() + long(keep), tokens.end());
  const auto start = std::chrono::steady_clock::now();
  ForwardResult result = session_.forward(fresh, last_only);
  stats.prefill_seconds = seconds_since(start);
  stats.prompt_tokens = int64_t(fresh.size());
  stats.reused_tokens = int64_t(keep);
  cached_.insert(cached_.end(), fresh.begin(), fresh.end());
  return std::move(result.logits);
}

struct Generator::Run {
  Run(const Tokenizer& tokenizer, const GenerationRequest& the_request, Sampler& the_sampler,
      std::function<void(std::string_view)> text_sink)
      : request(the_request), sampler(the_sampler), on_text(std::move(text_sink)),
        text(tokenizer, /*skip_special_tokens=*/true), stops(the_request.stop_strings) {
    last_only.all_logits = false;
  }
  const GenerationRequest& request;
  Sampler& sampler;
  std::function<void(std::string_view)> on_text;
  DecodeStream text;
  StopStringFilter stops;
  GenerationStats stats;
  std::vector<float> logits;  // of the last fed position: what the next token is drawn from
  ForwardOptions last_only;
  ForwardResult step;  // reused: a decode step allocates nothing
  std::vector<int32_t> next = std::vector<int32_t>(1);
  std::chrono::steady_clock::time_point decode_start;
  bool running = true;
  bool awaiting_feed = false;  // draw() has sampled next[0]; fed() has not had its logits yet
};

Generator::~Generator() = default;

void Generator::begin(const GenerationRequest& request, Sampler& sampler,
                      std::function<void(std::string_view)> on_text) {
  run_ = std::make_unique<Run>(tokenizer_, request, sampler, std::move(on_text));
  try {
    run_->logits = feed_prompt(request.tokens, run_->stats);
  } catch (...) {
    run_.reset();  // no generation to step
    throw;
  }
  run_->decode_start = std::chrono::steady_clock::now();
}

bool Generator::running() const { return run_ != nullptr && run_->running; }

const GenerationStats& Generator::stats() const {
  if (run_ == nullptr) fail("generate: stats() before begin()");
  return run_->stats;
}

void Generator::finish(StopReason reason) {
  Run& r = *run_;
  r.stats.reason = reason;
  if (!r.stops.stopped()) r.on_text(r.stops.push(r.text.flush()));
  r.on_text(r.stops.flush());
  r.stats.decode_seconds = seconds_since(r.decode_start);
  r.running = false;
}

bool Generator::draw() {
  if (!running()) return false;
  Run& r = *run_;
  if (r.awaiting_feed) fail("generate: draw() again before fed()");
  const GenerationRequest& request = r.request;
  if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
    finish(StopReason::kCancelled);
    return false;
  }
  if (request.max_new_tokens >= 0 && r.stats.generated_tokens >= request.max_new_tokens) {
    finish(StopReason::kMaxTokens);
    return false;
  }
  const int32_t token = r.sampler.sample(r.logits, cached_);
  if (request.on_token) request.on_token(token, r.logits);
  r.stats.generated.push_back(token);
  ++r.stats.generated_tokens;
  if (std::find(request.end_tokens.begin(), request.end_tokens.end(), token) != request.end_tokens.end()) {
    finish(StopReason::kEndOfSequence);
    return false;
  }
  r.on_text(r.stops.push(r.text.push(token)));
  if (r.stops.stopped()) {
    finish(StopReason::kStopString);
    return false;
  }
  if (session_.position() >= session_.context()) {
    finish(StopReason::kContextFull);  // the sampled token has no room in the cache
    return false;
  }
  r.next[0] = token;
  r.awaiting_feed = true;
  return true;
}

int32_t Generator::pending_token() const {
  if (!running() || !run_->awaiting_feed) fail("generate: no token waits to be fed");
  return run_->next[0];
}

void Generator::fed(std::span<const float> logits) {
  if (!running() || !run_->awaiting_feed) fail("generate: fed() without a drawn token");
  Run& r = *run_;
  r.logits.assign(logits.begin(), logits.end());  // the vector keeps its capacity: no allocation
  cached_.push_back(r.next[0]);
  r.awaiting_feed = false;
}

bool Generator::step() {
  if (!draw()) return false;
  Run& r = *run_;
  session_.forward(r.next, r.last_only, r.step);
  fed(r.step.logits);
  return true;
}

GenerationStats Generator::generate(const GenerationRequest& request, Sampler& sampler,
                                    const std::function<void(std::string_view)>& on_text) {
  begin(request, sampler, on_text);
  while (step()) {
  }
  GenerationStats stats = std::move(run_->stats);
  run_.reset();
  return stats;
}

}  // namespace dsmoe
