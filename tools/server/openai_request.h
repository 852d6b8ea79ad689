// OpenAI's request bodies, read and checked: /v1/chat/completions (messages through the model's chat template) and
// /v1/completions (a prompt), with the sampling parameters OpenAI documents and llama.cpp's additions (top_k,
// min_p, repeat_penalty, ignore_eos). Every bad value is an ApiError naming the parameter, as OpenAI's own errors do.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dsmoe/chat_template.h"
#include "dsmoe/dsmoe.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"
#include "server/slot_scheduler.h"

namespace dsmoe::server {

// An error as OpenAI reports it: an HTTP status and {"error": {"message", "type", "param", "code"}}.
class ApiError : public std::runtime_error {
 public:
  ApiError(int http_status, const std::string& message, std::string parameter = {},
           std::string error_type = "invalid_request_error", std::string error_code = {})
      : std::runtime_error(message), status(http_status), param(std::move(parameter)), type(std::move(error_type)),
        code(std::move(error_code)) {}
  int status;
  std::string param;
  std::string type;
  std::string code;
};

// The model as the server offers it.
struct ServerModel {
  const Model* model = nullptr;
  const Tokenizer* tokenizer = nullptr;
  std::optional<ChatTemplate> chat_template;  // absent: /v1/chat/completions answers 400
  nlohmann::json tokenizer_config;
  SamplingParams sampling;          // defaults: generation_config.json, then the command line
  int64_t max_tokens = -1;          // -n: the default of max_tokens (< 0: until an end token or a full context)
  std::vector<std::string> stop;    // --stop: added to every request's
  std::vector<int32_t> end_tokens;  // what ignore_eos (llama.cpp's extension) keeps from being drawn
  int64_t context = 0;              // per slot
  std::string id;                   // what /v1/models lists: the model folder's or file's name
};

struct ParsedRequest {
  JobSpec job;
  bool chat = true;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool legacy_logprobs = false;  // /v1/completions' logprobs (an integer) rather than chat's
  std::string model;             // as the request named it (answered back; one model is served)
};

ParsedRequest parse_chat_request(const nlohmann::json& body, const ServerModel& model);
ParsedRequest parse_completion_request(const nlohmann::json& body, const ServerModel& model);

// The body as JSON: 400 when it is not JSON, not an object, or nested deeper than dsmoe reads anything.
nlohmann::json parse_body(const std::string& body);

}  // namespace dsmoe::server
