// The C API of include/dsmoe/dsmoe_c.h: each handle owns the C++ object it stands for, every entry point turns
// exceptions into a return value and a message for dsmoe_last_error(), and nothing C++ crosses the boundary.
#include "model/model_access.h"
#include "dsmoe/dsmoe_c.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "core/errors.h"
#include "dsmoe/dsmoe.h"
#include "model/config.h"
#include "dsmoe/chat_session.h"
#include "dsmoe/generator.h"
#include "dsmoe/prompt.h"
#include "dsmoe/sampler.h"
#include "dsmoe/chat_template.h"
#include "dsmoe/model_metadata.h"
#include "dsmoe/tokenizer.h"

struct dsmoe_model {
  std::unique_ptr<dsmoe::Model> model;
  const dsmoe::Tokenizer* tokenizer = nullptr;
  std::optional<dsmoe::ChatTemplate> chat_template;  // absent when tokenizer_config.json has none
  std::vector<int32_t> end_tokens;
};

struct dsmoe_generator {
  const dsmoe_model* model;
  dsmoe::Generator generator;
};

struct dsmoe_chat {
  dsmoe_chat(const dsmoe_model* owner, int64_t context, const dsmoe::SamplingParams& sampling)
      : model(owner),
        generator(*owner->model, *owner->tokenizer, context),
        sampler(sampling),
        session(generator, *owner->tokenizer, *owner->chat_template, owner->tokenizer->config_json(),
                owner->end_tokens) {}

  const dsmoe_model* model;
  dsmoe::Generator generator;  // before session, which keeps a reference to it
  dsmoe::Sampler sampler;
  dsmoe::ChatSession session;
};

namespace {

thread_local std::string g_last_error;

// Runs body; on an exception records its message and returns `failed`.
template <typename Result, typename Body>
Result guarded(Result failed, Body&& body) {
  try {
    g_last_error.clear();
    return body();
  } catch (const std::exception& error) {
    g_last_error = error.what();
  } catch (...) {
    g_last_error = "unknown error";
  }
  return failed;
}

void require(bool ok, const char* what) {
  if (!ok) dsmoe::fail(what);
}

char* copy_string(const std::string& text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) dsmoe::fail("out of memory copying ", text.size(), " bytes");
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

dsmoe::SamplingParams sampling_params(const dsmoe_sampling_params* c) {
  const dsmoe_sampling_params given = c != nullptr ? *c : dsmoe_sampling_params_default();
  dsmoe::SamplingParams params;
  params.temperature = given.temperature;
  params.top_k = given.top_k;
  params.top_p = given.top_p;
  params.min_p = given.min_p;
  params.repeat_penalty = given.repeat_penalty;
  params.repeat_last_n = given.repeat_last_n;
  params.presence_penalty = given.presence_penalty;
  params.frequency_penalty = given.frequency_penalty;
  params.seed = given.seed;
  return params;
}

int64_t context_or_default(const dsmoe_model* model, int64_t context) {
  return context > 0 ? context : dsmoe::model_config(*model->model).max_position_embeddings;
}

// Wraps a C callback as the generator's text sink; a non-zero return sets the cancel flag.
struct CallbackSink {
  dsmoe_text_callback callback;
  void* user_data;
  std::atomic<bool> cancel{false};

  void operator()(std::string_view text) {
    if (callback != nullptr && !text.empty() && !cancel.load() &&
        callback(text.data(), text.size(), user_data) != 0) {
      cancel.store(true);
    }
  }
};

void fill_result(const dsmoe::GenerationStats& stats, int64_t dropped, dsmoe_generation_result* result) {
  if (result == nullptr) return;
  result->prompt_tokens = stats.prompt_tokens;
  result->reused_tokens = stats.reused_tokens;
  result->generated_tokens = stats.generated_tokens;
  result->prefill_seconds = stats.prefill_seconds;
  result->decode_seconds = stats.decode_seconds;
  result->stop_reason = static_cast<int>(stats.reason);
  result->dropped_messages = dropped;
}

}  // namespace

static_assert(int(dsmoe::StopReason::kEndOfSequence) == DSMOE_STOP_END_OF_SEQUENCE);
static_assert(int(dsmoe::StopReason::kStopString) == DSMOE_STOP_STRING);
static_assert(int(dsmoe::StopReason::kMaxTokens) == DSMOE_STOP_MAX_TOKENS);
static_assert(int(dsmoe::StopReason::kContextFull) == DSMOE_STOP_CONTEXT_FULL);
static_assert(int(dsmoe::StopReason::kCancelled) == DSMOE_STOP_CANCELLED);

extern "C" {

const char* dsmoe_last_error(void) { return g_last_error.c_str(); }
const char* dsmoe_version(void) { return DSMOE_VERSION; }
void dsmoe_set_num_threads(int n) { dsmoe::set_num_threads(n); }
void dsmoe_string_free(char* text) { std::free(text); }

dsmoe_load_params dsmoe_load_params_default(void) { return dsmoe_load_params{-1, "f16"}; }

dsmoe_model* dsmoe_model_load(const char* path, const dsmoe_load_params* params) {
  return guarded<dsmoe_model*>(nullptr, [&] {
    require(path != nullptr, "dsmoe_model_load: path is NULL");
    const dsmoe_load_params given = params != nullptr ? *params : dsmoe_load_params_default();
    dsmoe::LoadOptions options;
    options.weights = given.weights_in_memory < 0    ? dsmoe::WeightMemory::kAuto
                      : given.weights_in_memory == 0 ? dsmoe::WeightMemory::kMap
                                                     : dsmoe::WeightMemory::kRead;
    if (given.cache_type != nullptr) {
      options.cache_type = dsmoe::parse_cache_type_name(given.cache_type, "dsmoe_load_params.cache_type");
    }
    auto handle = std::make_unique<dsmoe_model>();
    handle->model = dsmoe::Model::load(path, options);
    handle->tokenizer = handle->model->tokenizer();
    if (handle->tokenizer == nullptr) dsmoe::fail(path, ": the model has no tokenizer");
    if (auto source = dsmoe::find_chat_template(path, handle->tokenizer->config_json())) {
      handle->chat_template.emplace(*source);
    }
    handle->end_tokens = dsmoe::end_tokens(*handle->model);
    return handle.release();
  });
}

void dsmoe_model_free(dsmoe_model* model) { delete model; }

int64_t dsmoe_model_context_length(const dsmoe_model* model) {
  return model != nullptr ? dsmoe::model_config(*model->model).max_position_embeddings : -1;
}

int64_t dsmoe_model_vocab_size(const dsmoe_model* model) {
  return model != nullptr ? dsmoe::model_config(*model->model).vocab_size : -1;
}

const char* dsmoe_model_description(const dsmoe_model* model) {
  return model != nullptr ? model->model->description().c_str() : "";
}

int64_t dsmoe_tokenize(const dsmoe_model* model, const char* text, size_t length, int add_special_tokens,
                       int32_t* ids, size_t capacity) {
  return guarded<int64_t>(-1, [&] {
    require(model != nullptr && (text != nullptr || length == 0), "dsmoe_tokenize: model or text is NULL");
    const std::string_view view(text != nullptr ? text : "", length);
    const std::vector<int32_t> tokens = add_special_tokens != 0 ? dsmoe::prompt_tokens(*model->tokenizer, view)
                                                                : model->tokenizer->encode(view, false);
    if (ids != nullptr) std::memcpy(ids, tokens.data(), std::min(capacity, tokens.size()) * sizeof(int32_t));
    return int64_t(tokens.size());
  });
}

char* dsmoe_detokenize(const dsmoe_model* model, const int32_t* ids, size_t count, int skip_special_tokens) {
  return guarded<char*>(nullptr, [&] {
    require(model != nullptr && (ids != nullptr || count == 0), "dsmoe_detokenize: model or ids is NULL");
    const std::vector<int32_t> tokens(ids, ids + count);
    return copy_string(model->tokenizer->decode(tokens, skip_special_tokens != 0));
  });
}

char* dsmoe_chat_render(const dsmoe_model* model, const char* messages_json, int add_generation_prompt) {
  return guarded<char*>(nullptr, [&] {
    require(model != nullptr && messages_json != nullptr, "dsmoe_chat_render: model or messages is NULL");
    if (!model->chat_template) dsmoe::fail(model->model->path(), ": the model has no chat template");
    const nlohmann::json messages = nlohmann::json::parse(messages_json);
    if (!messages.is_array()) dsmoe::fail("dsmoe_chat_render: messages must be a JSON array of {role, content}");
    return copy_string(model->chat_template->render(
        dsmoe::chat_template_context(model->tokenizer->config_json(), messages, add_generation_prompt != 0)));
  });
}

dsmoe_sampling_params dsmoe_sampling_params_default(void) {
  const dsmoe::SamplingParams d;
  return dsmoe_sampling_params{d.temperature,    d.top_k,          d.top_p,
                               d.min_p,          d.repeat_penalty, d.repeat_last_n,
                               d.presence_penalty, d.frequency_penalty, d.seed};
}

dsmoe_generator* dsmoe_generator_new(const dsmoe_model* model, int64_t context) {
  return guarded<dsmoe_generator*>(nullptr, [&] {
    require(model != nullptr, "dsmoe_generator_new: model is NULL");
    return new dsmoe_generator{model, dsmoe::Generator(*model->model, *model->tokenizer,
                                                       context_or_default(model, context))};
  });
}

void dsmoe_generator_free(dsmoe_generator* generator) { delete generator; }

int dsmoe_generate(dsmoe_generator* generator, const int32_t* tokens, size_t count, int64_t max_new_tokens,
                   const dsmoe_sampling_params* sampling, dsmoe_text_callback on_text, void* user_data,
                   dsmoe_generation_result* result) {
  return guarded<int>(-1, [&] {
    require(generator != nullptr && (tokens != nullptr || count == 0), "dsmoe_generate: generator or tokens is NULL");
    dsmoe::Sampler sampler(sampling_params(sampling));
    CallbackSink sink{on_text, user_data};
    dsmoe::GenerationRequest request;
    request.tokens.assign(tokens, tokens + count);
    request.max_new_tokens = max_new_tokens;
    request.end_tokens = generator->model->end_tokens;
    request.cancel = &sink.cancel;
    const dsmoe::GenerationStats stats =
        generator->generator.generate(request, sampler, [&](std::string_view text) { sink(text); });
    fill_result(stats, 0, result);
    return 0;
  });
}

dsmoe_chat* dsmoe_chat_new(const dsmoe_model* model, int64_t context, const char* system,
                           const dsmoe_sampling_params* sampling) {
  return guarded<dsmoe_chat*>(nullptr, [&] {
    require(model != nullptr, "dsmoe_chat_new: model is NULL");
    if (!model->chat_template) dsmoe::fail(model->model->path(), ": the model has no chat template");
    auto chat = std::make_unique<dsmoe_chat>(model, context_or_default(model, context), sampling_params(sampling));
    chat->session.set_system(system != nullptr ? system : "");
    return chat.release();
  });
}

void dsmoe_chat_free(dsmoe_chat* chat) { delete chat; }

int dsmoe_chat_send(dsmoe_chat* chat, const char* message, int64_t max_new_tokens, dsmoe_text_callback on_text,
                    void* user_data, dsmoe_generation_result* result) {
  return guarded<int>(-1, [&] {
    require(chat != nullptr && message != nullptr, "dsmoe_chat_send: chat or message is NULL");
    CallbackSink sink{on_text, user_data};
    dsmoe::ChatTurnOptions options;
    options.max_new_tokens = max_new_tokens;
    options.cancel = &sink.cancel;
    const dsmoe::ChatTurn turn =
        chat->session.send(message, options, chat->sampler, [&](std::string_view text) { sink(text); });
    if (turn.refused) {
      g_last_error = turn.refusal;
      return 1;
    }
    fill_result(turn.stats, turn.dropped_messages, result);
    return 0;
  });
}

}  // extern "C"
