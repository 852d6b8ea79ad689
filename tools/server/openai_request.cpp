#include "server/openai_request.h"

#include <cmath>
#include <random>

#include "dsmoe/error.h"
#include "dsmoe/json_file.h"
#include "dsmoe/prompt.h"

namespace dsmoe::server {
namespace {

constexpr int64_t kMaxStopStrings = 4;     // OpenAI's limit
constexpr int64_t kMaxTopLogprobs = 20;    // chat's top_logprobs
constexpr int64_t kMaxLegacyLogprobs = 5;  // completions' logprobs

// A present, non-null value of `key`.
const nlohmann::json* field(const nlohmann::json& body, const char* key) {
  const auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number_in(const nlohmann::json& body, const char* key, double low, double high, double fallback) {
  const nlohmann::json* value = field(body, key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) throw ApiError(400, cat(key, " must be a number, found ", value->dump()), key);
  const double x = value->get<double>();
  if (!(x >= low && x <= high)) throw ApiError(400, cat(key, " must be between ", low, " and ", high, ", found ", x), key);
  return x;
}

int64_t integer_in(const nlohmann::json& body, const char* key, int64_t low, int64_t high, int64_t fallback) {
  const nlohmann::json* value = field(body, key);
  if (value == nullptr) return fallback;
  if (!value->is_number_integer()) throw ApiError(400, cat(key, " must be an integer, found ", value->dump()), key);
  const int64_t x = value->is_number_unsigned() && value->get<uint64_t>() > uint64_t(INT64_MAX)
                        ? INT64_MAX
                        : value->get<int64_t>();
  if (x < low || x > high) throw ApiError(400, cat(key, " must be between ", low, " and ", high, ", found ", x), key);
  return x;
}

bool boolean(const nlohmann::json& body, const char* key, bool fallback) {
  const nlohmann::json* value = field(body, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) throw ApiError(400, cat(key, " must be true or false, found ", value->dump()), key);
  return value->get<bool>();
}

// What chat and completions share: sampling, limits, stop strings, streaming.
void parse_common(const nlohmann::json& body, const ServerModel& model, ParsedRequest& out) {
  if (const nlohmann::json* m = field(body, "model")) {
    if (!m->is_string()) throw ApiError(400, "model must be a string", "model");
    out.model = m->get<std::string>();
  } else {
    out.model = model.id;
  }
  SamplingParams& s = out.job.sampling;
  s = model.sampling;
  s.temperature = float(number_in(body, "temperature", 0, 2, s.temperature));
  s.top_p = float(number_in(body, "top_p", 0, 1, s.top_p));
  s.top_k = integer_in(body, "top_k", 0, INT32_MAX, s.top_k);
  s.min_p = float(number_in(body, "min_p", 0, 1, s.min_p));
  s.presence_penalty = float(number_in(body, "presence_penalty", -2, 2, s.presence_penalty));
  s.frequency_penalty = float(number_in(body, "frequency_penalty", -2, 2, s.frequency_penalty));
  s.repeat_penalty = float(number_in(body, "repeat_penalty", 0.01, 100, s.repeat_penalty));
  if (field(body, "seed") != nullptr) {
    s.seed = uint64_t(integer_in(body, "seed", INT64_MIN, INT64_MAX, 0));
  } else {
    s.seed = std::random_device{}();  // as OpenAI: without a seed, every request samples differently
  }
  if (boolean(body, "ignore_eos", false)) {
    s.suppress_tokens.insert(s.suppress_tokens.end(), model.end_tokens.begin(), model.end_tokens.end());
  }
  if (integer_in(body, "n", 1, 1, 1) != 1) throw ApiError(400, "n: only 1 is supported", "n");

  int64_t max_tokens = integer_in(body, "max_tokens", 1, INT32_MAX, model.max_tokens);
  max_tokens = integer_in(body, "max_completion_tokens", 1, INT32_MAX, max_tokens);
  out.job.max_tokens = max_tokens;

  out.job.stop = model.stop;
  if (const nlohmann::json* stop = field(body, "stop")) {
    if (stop->is_string()) {
      out.job.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array() && int64_t(stop->size()) <= kMaxStopStrings) {
      for (const auto& item : *stop) {
        if (!item.is_string()) throw ApiError(400, "stop must be a string or a list of strings", "stop");
        out.job.stop.push_back(item.get<std::string>());
      }
    } else {
      throw ApiError(400, cat("stop must be a string or a list of at most ", kMaxStopStrings, " strings"), "stop");
    }
    for (const std::string& text : out.job.stop) {
      if (text.empty()) throw ApiError(400, "stop strings must not be empty", "stop");
    }
  }

  out.stream = boolean(body, "stream", false);
  if (const nlohmann::json* options = field(body, "stream_options")) {
    if (!out.stream) throw ApiError(400, "stream_options is only allowed when stream is true", "stream_options");
    if (!options->is_object()) throw ApiError(400, "stream_options must be an object", "stream_options");
    out.include_usage = boolean(*options, "include_usage", false);
  }
}

// A message's content: a string, or a list of {"type": "text", "text": ...} parts joined.
std::string message_text(const nlohmann::json& content, size_t index) {
  const std::string param = cat("messages[", index, "].content");
  if (content.is_null()) return {};
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) throw ApiError(400, param + " must be a string or a list of text parts", param);
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      throw ApiError(400, param + ": only parts of type \"text\" with a string \"text\" are supported", param);
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

void check_fits(const std::vector<int32_t>& prompt, const ServerModel& model, const char* what) {
  if (prompt.empty()) throw ApiError(400, cat(what, " is empty"), what);
  if (int64_t(prompt.size()) >= model.context) {
    throw ApiError(413, cat("the ", what, " is ", prompt.size(), " tokens but the context of a slot holds ",
                            model.context, " (including at least one generated token)"),
                   what, "invalid_request_error", "context_length_exceeded");
  }
}

}  // namespace

nlohmann::json parse_body(const std::string& body) {
  nlohmann::json json;
  try {
    json = parse_json_text(body.data(), body.data() + body.size(), "the request body");
  } catch (const Error& error) {
    throw ApiError(400, error.what());
  }
  if (!json.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return json;
}

ParsedRequest parse_chat_request(const nlohmann::json& body, const ServerModel& model) {
  ParsedRequest out;
  out.chat = true;
  parse_common(body, model, out);
  if (boolean(body, "logprobs", false)) {
    out.job.top_logprobs = int(integer_in(body, "top_logprobs", 0, kMaxTopLogprobs, 0));
  } else if (field(body, "top_logprobs") != nullptr) {
    throw ApiError(400, "top_logprobs needs logprobs set to true", "top_logprobs");
  }
  const nlohmann::json* messages = field(body, "messages");
  if (messages == nullptr) throw ApiError(400, "messages is required", "messages");
  if (!messages->is_array() || messages->empty()) throw ApiError(400, "messages must be a non-empty list", "messages");
  nlohmann::json plain = nlohmann::json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const nlohmann::json& message = (*messages)[i];
    const std::string param = cat("messages[", i, "]");
    if (!message.is_object()) throw ApiError(400, param + " must be an object", param);
    const auto role = message.find("role");
    if (role == message.end() || !role->is_string()) throw ApiError(400, param + ".role must be a string", param + ".role");
    const std::string name = role->get<std::string>();
    if (name != "system" && name != "developer" && name != "user" && name != "assistant" && name != "tool") {
      throw ApiError(400, cat(param, ".role must be system, developer, user, assistant or tool, found '", name, "'"),
                     param + ".role");
    }
    plain.push_back({{"role", name == "developer" ? "system" : name},
                     {"content", message_text(message.contains("content") ? message["content"] : nlohmann::json(), i)}});
  }
  if (!model.chat_template) throw ApiError(400, "this model has no chat template; use /v1/completions", "messages");
  std::string text;
  try {
    text = model.chat_template->render(chat_template_context(model.tokenizer_config, plain, true));
  } catch (const Error& error) {
    throw ApiError(400, cat("the chat template: ", error.what()), "messages");
  }
  out.job.prompt = model.tokenizer->encode(text, /*add_special_tokens=*/false);  // as apply_chat_template
  check_fits(out.job.prompt, model, "messages");
  return out;
}

ParsedRequest parse_completion_request(const nlohmann::json& body, const ServerModel& model) {
  ParsedRequest out;
  out.chat = false;
  parse_common(body, model, out);
  if (field(body, "logprobs") != nullptr) {
    out.legacy_logprobs = true;
    out.job.top_logprobs = int(integer_in(body, "logprobs", 0, kMaxLegacyLogprobs, 0));
  }
  if (boolean(body, "echo", false)) throw ApiError(400, "echo is not supported", "echo");
  if (field(body, "suffix") != nullptr) throw ApiError(400, "suffix is not supported", "suffix");
  const nlohmann::json* prompt = field(body, "prompt");
  if (prompt == nullptr) throw ApiError(400, "prompt is required", "prompt");
  if (prompt->is_string()) {
    out.job.prompt = prompt_tokens(*model.tokenizer, prompt->get<std::string>());
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    out.job.prompt = prompt_tokens(*model.tokenizer, (*prompt)[0].get<std::string>());
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    const int64_t vocab = model.model->info().vocab_size;
    for (const auto& id : *prompt) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab) {
        throw ApiError(400, cat("prompt: token ids must be integers in [0, ", vocab, "), found ", id.dump()), "prompt");
      }
      out.job.prompt.push_back(int32_t(id.get<int64_t>()));
    }
  } else {
    throw ApiError(400, "prompt must be a string, a list of one string, or a list of token ids (n = 1)", "prompt");
  }
  check_fits(out.job.prompt, model, "prompt");
  return out;
}

}  // namespace dsmoe::server
