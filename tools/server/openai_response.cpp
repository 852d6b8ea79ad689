#include "server/openai_response.h"

#include <algorithm>

namespace dsmoe::server {
namespace {

// A token as text, as OpenAI's logprobs show it, with its UTF-8 bytes (a token may hold part of a character).
std::string piece(const Tokenizer& tokenizer, int32_t token) {
  try {
    return tokenizer.decode({token}, /*skip_special_tokens=*/false);
  } catch (const std::exception&) {
    return {};  // an id without a token (a padded vocabulary)
  }
}

nlohmann::json bytes_of(const std::string& text) {
  nlohmann::json bytes = nlohmann::json::array();
  for (const unsigned char c : text) bytes.push_back(int(c));
  return bytes;
}

nlohmann::json chat_logprobs(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer) {
  nlohmann::json content = nlohmann::json::array();
  for (const TokenLogprob& lp : logprobs) {
    const std::string text = piece(tokenizer, lp.token);
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [token, logprob] : lp.top) {
      const std::string alternative = piece(tokenizer, token);
      top.push_back({{"token", alternative}, {"logprob", logprob}, {"bytes", bytes_of(alternative)}});
    }
    content.push_back({{"token", text}, {"logprob", lp.logprob}, {"bytes", bytes_of(text)}, {"top_logprobs", top}});
  }
  return {{"content", content}, {"refusal", nullptr}};
}

// Completions' legacy columns: tokens, token_logprobs, top_logprobs ({token: logprob}) and text_offset.
nlohmann::json legacy_logprobs(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer,
                               int64_t offset) {
  nlohmann::json tokens = nlohmann::json::array(), values = nlohmann::json::array();
  nlohmann::json tops = nlohmann::json::array(), offsets = nlohmann::json::array();
  for (const TokenLogprob& lp : logprobs) {
    const std::string text = piece(tokenizer, lp.token);
    tokens.push_back(text);
    values.push_back(lp.logprob);
    nlohmann::json top = nlohmann::json::object();
    for (const auto& [token, logprob] : lp.top) top[piece(tokenizer, token)] = logprob;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += int64_t(text.size());
  }
  return {{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

}  // namespace

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json error_body(const ApiError& error) {
  return {{"error",
           {{"message", error.what()},
            {"type", error.type},
            {"param", error.param.empty() ? nlohmann::json() : nlohmann::json(error.param)},
            {"code", error.code.empty() ? nlohmann::json() : nlohmann::json(error.code)}}}};
}

const char* finish_reason(StopReason reason) {
  switch (reason) {
    case StopReason::kMaxTokens:
    case StopReason::kContextFull:
      return "length";
    default:
      return "stop";
  }
}

nlohmann::json usage(const Answer& answer, const std::vector<int32_t>& end_tokens) {
  int64_t completion = answer.stats.generated_tokens;
  if (answer.stats.reason == StopReason::kEndOfSequence && completion > 0 && !answer.stats.generated.empty() &&
      std::find(end_tokens.begin(), end_tokens.end(), answer.stats.generated.back()) != end_tokens.end()) {
    --completion;  // the end token ends the answer; it is not part of it
  }
  return {{"prompt_tokens", answer.prompt_tokens},
          {"completion_tokens", completion},
          {"total_tokens", answer.prompt_tokens + completion},
          {"prompt_tokens_details", {{"cached_tokens", answer.stats.reused_tokens}}}};
}

nlohmann::json chat_completion(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                               const std::vector<int32_t>& end_tokens) {
  nlohmann::json choice = {{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", answer.text}, {"refusal", nullptr}}},
                           {"logprobs", nullptr},
                           {"finish_reason", finish_reason(answer.stats.reason)}};
  if (request.job.top_logprobs >= 0) choice["logprobs"] = chat_logprobs(answer.logprobs, tokenizer);
  return {{"id", answer.id},
          {"object", "chat.completion"},
          {"created", answer.created},
          {"model", answer.model},
          {"system_fingerprint", "dsmoe"},
          {"choices", nlohmann::json::array({choice})},
          {"usage", usage(answer, end_tokens)}};
}

nlohmann::json text_completion(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                               const std::vector<int32_t>& end_tokens) {
  nlohmann::json choice = {{"index", 0},
                           {"text", answer.text},
                           {"logprobs", nullptr},
                           {"finish_reason", finish_reason(answer.stats.reason)}};
  if (request.job.top_logprobs >= 0) {
    choice["logprobs"] = legacy_logprobs(answer.logprobs, tokenizer, 0);
  }
  return {{"id", answer.id},
          {"object", "text_completion"},
          {"created", answer.created},
          {"model", answer.model},
          {"system_fingerprint", "dsmoe"},
          {"choices", nlohmann::json::array({choice})},
          {"usage", usage(answer, end_tokens)}};
}

std::string stream_event(const Answer& answer, const ParsedRequest& request, const Tokenizer& tokenizer,
                         const std::string& text, const std::vector<TokenLogprob>& logprobs, bool first, bool finished) {
  const std::vector<TokenLogprob>& shown = logprobs;
  nlohmann::json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (finished) choice["finish_reason"] = finish_reason(answer.stats.reason);
  nlohmann::json chunk = {{"id", answer.id},
                          {"created", answer.created},
                          {"model", answer.model},
                          {"system_fingerprint", "dsmoe"}};
  if (request.chat) {
    nlohmann::json delta = nlohmann::json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || first) delta["content"] = text;
    choice["delta"] = delta;
    if (request.job.top_logprobs >= 0 && !shown.empty()) choice["logprobs"] = chat_logprobs(shown, tokenizer);
    chunk["object"] = "chat.completion.chunk";
  } else {
    choice["text"] = text;
    if (request.job.top_logprobs >= 0 && !shown.empty()) {
      choice["logprobs"] = legacy_logprobs(shown, tokenizer, int64_t(answer.text.size() - text.size()));
    }
    chunk["object"] = "text_completion";
  }
  chunk["choices"] = nlohmann::json::array({choice});
  if (request.include_usage) chunk["usage"] = nullptr;  // OpenAI: null on every chunk but the usage chunk
  return "data: " + json_text(chunk) + "\n\n";
}

std::string stream_usage_event(const Answer& answer, const ParsedRequest& request,
                               const std::vector<int32_t>& end_tokens) {
  const nlohmann::json chunk = {{"id", answer.id},
                                {"object", request.chat ? "chat.completion.chunk" : "text_completion"},
                                {"created", answer.created},
                                {"model", answer.model},
                                {"system_fingerprint", "dsmoe"},
                                {"choices", nlohmann::json::array()},
                                {"usage", usage(answer, end_tokens)}};
  return "data: " + json_text(chunk) + "\n\n";
}

}  // namespace dsmoe::server
