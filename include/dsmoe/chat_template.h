// Chat templates: the Jinja program in tokenizer_config.json that turns a list of messages into the
// prompt text, rendered as HF's apply_chat_template renders it (jinja2's ImmutableSandboxedEnvironment
// with trim_blocks and lstrip_blocks, the loopcontrols extension, HF's tojson, raise_exception and
// strftime_now). The subset of Jinja covered is what real chat templates use; anything else is an Error
// at parse time naming the construct and its line and column.
//
// Key order: Python dicts keep insertion order and tojson prints it. An nlohmann::ordered_json context
// keeps the order of the JSON it was parsed from, as json.loads does; a plain nlohmann::json has sorted
// its keys, which only matters to templates that print whole objects (tool schemas, tool arguments).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace dsmoe {

class ChatTemplate {
 public:
  explicit ChatTemplate(std::string source);  // parses once; Error on unsupported constructs

  // Each render has its own state, so one ChatTemplate may render on several threads at once.
  std::string render(const nlohmann::json& context) const;
  std::string render(const nlohmann::ordered_json& context) const;
  const std::string& source() const { return source_; }

 private:
  struct Parsed;
  std::string source_;
  std::shared_ptr<const Parsed> parsed_;
};

// Renders `source` with variables from `context` (messages, add_generation_prompt, bos_token, eos_token,
// tools, ...).
std::string render_chat_template(const std::string& source, const nlohmann::json& context);
std::string render_chat_template(const std::string& source, const nlohmann::ordered_json& context);

// The template a tokenizer_config.json object names: "chat_template" as a string, or as a list of
// {name, template} from which HF uses "default". nullopt when there is none (absent or null); an Error
// when a list offers no "default".
std::optional<std::string> chat_template_source(const nlohmann::json& tokenizer_config);

// The variables HF's apply_chat_template passes: the special tokens of tokenizer_config (bos_token,
// eos_token, unk_token, sep_token, pad_token, cls_token, mask_token, each a string or an AddedToken
// object with "content"; additional_special_tokens), messages, tools and documents (None unless given),
// add_generation_prompt, then `extra_variables` (e.g. tools, enable_thinking) over all of those.
nlohmann::json chat_template_context(const nlohmann::json& tokenizer_config, const nlohmann::json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::json& extra_variables = nlohmann::json::object());
nlohmann::ordered_json chat_template_context(
    const nlohmann::json& tokenizer_config, const nlohmann::ordered_json& messages, bool add_generation_prompt,
    const nlohmann::ordered_json& extra_variables = nlohmann::ordered_json::object());

}  // namespace dsmoe
