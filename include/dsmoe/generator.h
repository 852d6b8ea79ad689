// The generation loop: prefill what the KV cache does not hold yet in one batched pass, then decode
// one token at a time, streaming text as it becomes complete UTF-8. Keeps the cache across calls, so
// a chat turn prefills only the new tokens.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsmoe/dsmoe.h"
#include "dsmoe/sampler.h"

namespace dsmoe {

class Tokenizer;

enum class StopReason { kEndOfSequence, kStopString, kMaxTokens, kContextFull, kCancelled };
const char* stop_reason_text(StopReason reason);

struct GenerationStats {
  int64_t prompt_tokens = 0;  // tokens prefilled this call (after reusing the cache)
  int64_t reused_tokens = 0;  // tokens already in the cache
  int64_t generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  StopReason reason = StopReason::kMaxTokens;
  std::vector<int32_t> generated;  // the sampled ids, in order (including a final end token)
};

struct GenerationRequest {
  std::vector<int32_t> tokens;   // the whole sequence so far: prompt, or the rendered conversation
  int64_t max_new_tokens = 256;  // < 0: until the end token or a full context
  std::vector<std::string> stop_strings;
  std::vector<int32_t> end_tokens;  // generation stops when one is sampled
  // Read before each token (and after the prefill); once true, generation stops with kCancelled. An atomic so that
  // a signal handler or another thread may set it.
  const std::atomic<bool>* cancel = nullptr;
  // Called with each sampled token and the logits it was drawn from (before any penalty or temperature): what
  // log probabilities are computed from. Optional.
  std::function<void(int32_t token, std::span<const float> logits)> on_token;
};

class Generator {
 public:
  Generator(const Model& model, const Tokenizer& tokenizer, int64_t context);

  ~Generator();
  // Throws Error when request.tokens does not fit in the context.
  GenerationStats generate(const GenerationRequest& request, Sampler& sampler,
                           const std::function<void(std::string_view)>& on_text);

  // The same a token at a time, for a caller that interleaves several generators (a server's slots): begin()
  // prefills what the cache lacks; each step() samples one token, streams its text and feeds it back, and returns
  // false once generation has stopped (then stats().reason says why and the text is flushed). `request`,
  // `sampler` and `on_text` must outlive the steps.
  void begin(const GenerationRequest& request, Sampler& sampler, std::function<void(std::string_view)> on_text);
  bool step();
  // step() in two halves, for continuous batching: draw() samples the next token and streams its text (false once
  // generation has stopped: nothing to feed); the caller runs pending_token() through session() (alone, or with
  // other generators' tokens in one Session::forward_together) and hands the logits of that position to fed().
  bool draw();
  int32_t pending_token() const;
  void fed(std::span<const float> logits);
  Session& session() { return session_; }
  bool running() const;
  const GenerationStats& stats() const;

  const std::vector<int32_t>& cached_tokens() const { return cached_; }
  int64_t context() const { return session_.context(); }
  const Session& session() const { return session_; }

 private:
  // Keeps the longest cached prefix of `tokens` (at least one token is left to feed) and returns
  // the logits of the last position after feeding the rest.
  std::vector<float> feed_prompt(const std::vector<int32_t>& tokens, GenerationStats& stats);

  void finish(StopReason reason);
  struct Run;  // the state of the generation begin() started
  const Tokenizer& tokenizer_;
  std::unique_ptr<Run> run_;
  Session session_;
  std::vector<int32_t> cached_;  // the tokens whose keys and values the session holds
};

}  // namespace dsmoe
