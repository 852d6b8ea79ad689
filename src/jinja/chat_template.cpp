#include "dsmoe/chat_template.h"

#include "core/errors.h"
#include "jinja/jinja_interpreter.h"
#include "jinja/jinja_json.h"
#include "jinja/jinja_parser.h"

namespace dsmoe {

struct ChatTemplate::Parsed {
  jinja::Body body;
};

ChatTemplate::ChatTemplate(std::string source) : source_(std::move(source)) {
  auto parsed = std::make_shared<Parsed>();
  parsed->body = jinja::parse_template(source_);
  parsed_ = std::move(parsed);
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
  if (!context.is_object()) fail("chat template context must be a JSON object, got ", context.type_name());
  return jinja::render_body(parsed_->body, jinja::value_from_json(context));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) fail("chat template context must be a JSON object, got ", context.type_name());
  return jinja::render_body(parsed_->body, jinja::value_from_json(context));
}

std::string render_chat_template(const std::string& source, const nlohmann::json& context) {
  return ChatTemplate(source).render(context);
}

std::string render_chat_template(const std::string& source, const nlohmann::ordered_json& context) {
  return ChatTemplate(source).render(context);
}

std::optional<std::string> chat_template_source(const nlohmann::json& tokenizer_config) {
  const auto it = tokenizer_config.find("chat_template");
  if (it == tokenizer_config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) fail("tokenizer_config chat_template must be a string or a list, got ", it->type_name());
  std::string names;
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["name"].is_string() ||
        !entry["template"].is_string())
      fail("tokenizer_config chat_template list entries must be {\"name\": ..., \"template\": ...}");
    if (entry["name"] == "default") return entry["template"].get<std::string>();
    names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>();
  }
  if (names.empty()) return std::nullopt;
  // HF refuses too: "This model has multiple chat templates with no default specified!"
  fail("tokenizer_config chat_template lists templates (", names, ") but none named \"default\"");
}

namespace {

// str(token) of a special token in tokenizer_config: a plain string or an AddedToken {"content": ...}.
std::optional<std::string> token_text(const nlohmann::json& token, const char* key) {
  if (token.is_null()) return std::nullopt;
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object() && token.contains("content") && token["content"].is_string())
    return token["content"].get<std::string>();
  fail("tokenizer_config ", key, " must be a string or an object with \"content\", got ", token.dump());
}

template <typename Json>
Json build_context(const nlohmann::json& tokenizer_config, const Json& messages, bool add_generation_prompt,
                   const Json& extra_variables) {
  if (!messages.is_array()) fail("chat messages must be a JSON array, got ", messages.type_name());
  if (!extra_variables.is_object()) fail("extra template variables must be a JSON object");
  Json context = Json::object();
  // tokenizer.special_tokens_map, which apply_chat_template spreads under the call's own arguments.
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    const auto it = tokenizer_config.find(key);
    if (it == tokenizer_config.end()) continue;
    if (std::optional<std::string> text = token_text(*it, key)) context[key] = *text;
  }
  const auto extra_tokens = tokenizer_config.find("additional_special_tokens");
  if (extra_tokens != tokenizer_config.end() && extra_tokens->is_array() && !extra_tokens->empty()) {
    Json texts = Json::array();
    for (const auto& token : *extra_tokens)
      if (std::optional<std::string> text = token_text(token, "additional_special_tokens")) texts.push_back(*text);
    context["additional_special_tokens"] = texts;
  }
  context["messages"] = messages;
  context["tools"] = nullptr;
  context["documents"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  for (auto it = extra_variables.begin(); it != extra_variables.end(); ++it) context[it.key()] = it.value();
  return context;
}

}  // namespace

nlohmann::json chat_template_context(const nlohmann::json& tokenizer_config, const nlohmann::json& messages,
                                     bool add_generation_prompt, const nlohmann::json& extra_variables) {
  return build_context(tokenizer_config, messages, add_generation_prompt, extra_variables);
}

nlohmann::ordered_json chat_template_context(const nlohmann::json& tokenizer_config,
                                             const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                             const nlohmann::ordered_json& extra_variables) {
  return build_context(tokenizer_config, messages, add_generation_prompt, extra_variables);
}

}  // namespace dsmoe
