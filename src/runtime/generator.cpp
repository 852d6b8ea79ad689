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

GenerationStats Generator::generate(const GenerationRequest& request, Sampler& sampler,
                                    const std::function<void(std::string_view)>& on_text) {
  GenerationStats stats;
  std::vector<float> logits = feed_prompt(request.tokens, stats);
  DecodeStream text(tokenizer_, /*skip_special_tokens=*/true);
  StopStringFilter stops(request.stop_strings);
  const auto start = std::chrono::steady_clock::now();
  ForwardOptions last_only;
  last_only.all_logits = false;
  ForwardResult step;  // reused: a decode step allocates nothing
  std::vector<int32_t> next(1);
  const auto cancelled = [&] { return request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed); };
  for (;;) {
    if (cancelled()) {
      stats.reason = StopReason::kCancelled;
      break;
    }
    if (request.max_new_tokens >= 0 && stats.generated_tokens >= request.max_new_tokens) {
      stats.reason = StopReason::kMaxTokens;
      break;
    }
    const int32_t token = sampler.sample(logits, cached_);
    stats.generated.push_back(token);
    ++stats.generated_tokens;
    if (std::find(request.end_tokens.begin(), request.end_tokens.end(), token) != request.end_tokens.end()) {
      stats.reason = StopReason::kEndOfSequence;
      break;
    }
    on_text(stops.push(text.push(token)));
    if (stops.stopped()) {
      stats.reason = StopReason::kStopString;
      break;
    }
    if (session_.position() >= session_.context()) {
      stats.reason = StopReason::kContextFull;  // the sampled token has no room in the cache
      break;
    }
    next[0] = token;
    session_.forward(next, last_only, step);
    logits.swap(step.logits);
    cached_.push_back(token);
  }
  if (!stops.stopped()) on_text(stops.push(text.flush()));
  on_text(stops.flush());
  stats.decode_seconds = seconds_since(start);
  return stats;
}

}  // namespace dsmoe
