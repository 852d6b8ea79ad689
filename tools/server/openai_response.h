// OpenAI's response shapes: chat.completion and its chat.completion.chunk stream, text_completion, usage,
// logprobs (chat's content list and completions' legacy columns) and the error object. JSON out of dsmoe goes
// through json_text, which replaces invalid UTF-8 (a token may be part of a character) instead of throwing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dsmoe/generator.h"
#include "dsmoe/tokenizer.h"
#include "server/openai_request.h"
#include "server/slot_scheduler.h"

namespace dsmoe::server {

std::string json_text(const nlohmann::json& value);
nlohmann::json error_body(const ApiError& error);

// "stop" for an end token or a stop string, "length" for max_tokens or a full context.
const char* finish_reason(StopReason reason);

// What one request's answer is made of, filled as the job reports.
struct Answer {
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // unix seconds
  std::string model;
  std::string text;
  std::vector<TokenLogprob> logprobs;
  GenerationStats stats;
  int64_t prompt_tokens = 0;
};

nlohmann::json usage(const Answer& answer, const std::vector<int32_t>& end_tokens);

// The whole answer (stream false).
nlohmann::json chat_completion(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                               const std::vector<int32_t>& end_tokens);
nlohmann::json text_completion(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                               const std::vector<int32_t>& end_tokens);

// One server-sent event of a stream: `text` and `logprobs` new since the last one; finished adds finish_reason.
// Chat's first chunk carries the role.
std::string stream_event(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                         const std::string& text, const std::vector<TokenLogprob>& logprobs, bool first, bool finished);
// The usage chunk of stream_options.include_usage (empty choices), then "data: [DONE]".
std::string stream_usage_event(const Answer& answer, const ParsedRequest& request,
                               const std::vector<int32_t>& end_tokens);
inline constexpr const char* kStreamDone = "data: [DONE]\n\n";

}  // namespace dsmoe::server
