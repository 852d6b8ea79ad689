// dsmoe template: renders a model's chat template over a messages file and prints the prompt exactly
// (no newline added), as HF's tokenizer.apply_chat_template(messages, tokenize=False) returns it.
//
// The messages file is a JSON list of messages, or an object {"messages": [...], ...} whose other keys
// become template variables (tools, documents, enable_thinking, ...). Its key order is kept, as Python's
// json.load keeps it, because tojson prints objects in that order.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "generation_options.h"
#include "core/errors.h"
#include "core/text_file.h"
#include "io/json_file.h"
#include "loaders/model_files.h"
#include "dsmoe/chat_template.h"

namespace dsmoe::cli {
namespace {

struct TemplateArgs {
  std::string model_dir;
  std::string tokenizer_config_path;
  std::string template_path;
  std::string messages_path;
  bool add_generation_prompt = false;
};

nlohmann::ordered_json read_ordered_json(const std::string& path) {
  const std::string text = read_text_file(path);
  return parse_ordered_json_text(text.data(), text.data() + text.size(), path);
}

// The template, in the order transformers prefers them: an explicit file, the model's
// chat_template.jinja, its chat_template.json, then tokenizer_config.json's chat_template.
std::string find_template(const TemplateArgs& args, bool gguf, const nlohmann::json& tokenizer_config,
                          const std::string& config_name) {
  if (!args.template_path.empty()) return read_text_file(args.template_path);
  if (!args.model_dir.empty() && !gguf) {
    const std::filesystem::path dir(args.model_dir);
    if (std::filesystem::exists(dir / "chat_template.jinja")) return read_text_file((dir / "chat_template.jinja").string());
    if (std::filesystem::exists(dir / "chat_template.json")) {
      const nlohmann::json file = read_json_file((dir / "chat_template.json").string());
      if (std::optional<std::string> source = chat_template_source(file)) return *source;
    }
  }
  if (std::optional<std::string> source = chat_template_source(tokenizer_config)) return *source;
  fail("template: ", config_name, " has no chat_template (HF's apply_chat_template refuses such a tokenizer too); ",
       "pass --template FILE");
}

int run_template(const TemplateArgs& args) {
  const bool gguf = is_gguf_path(args.model_dir);  // the model is one GGUF file rather than a folder
  std::string config_name = "(no tokenizer config)";
  nlohmann::json tokenizer_config = nlohmann::json::object();
  if (!args.tokenizer_config_path.empty()) {
    config_name = args.tokenizer_config_path;
  } else if (gguf) {
    config_name = args.model_dir + " (tokenizer.chat_template)";
    tokenizer_config = open_tokenizer_files(args.model_dir).tokenizer_config;
  } else if (!args.model_dir.empty()) {
    config_name = (std::filesystem::path(args.model_dir) / "tokenizer_config.json").string();
  } else if (args.template_path.empty()) {
    fail("template: give -m DIR, --tokenizer-config FILE or --template FILE");
  }
  if (config_name != "(no tokenizer config)" && !gguf) {
    const bool optional = !args.model_dir.empty() && args.tokenizer_config_path.empty() && !args.template_path.empty();
    if (!optional || std::filesystem::exists(config_name)) tokenizer_config = read_json_file(config_name);
  }
  const ChatTemplate chat_template(find_template(args, gguf, tokenizer_config, config_name));

  nlohmann::ordered_json input = read_ordered_json(args.messages_path);
  nlohmann::ordered_json messages;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  if (input.is_array()) {
    messages = std::move(input);
  } else if (input.is_object() && input.contains("messages")) {
    messages = input["messages"];
    for (auto it = input.begin(); it != input.end(); ++it)
      if (it.key() != "messages") extra[it.key()] = it.value();
  } else {
    fail(args.messages_path, ": expected a list of messages or an object with \"messages\"");
  }
  const nlohmann::ordered_json context =
      chat_template_context(tokenizer_config, messages, args.add_generation_prompt, extra);
  std::cout << chat_template.render(context) << std::flush;
  return 0;
}

}  // namespace

Handler add_template_command(CLI::App& app) {
  auto args = std::make_shared<TemplateArgs>();
  app.add_option("-m,--model", args->model_dir, "model directory (reads tokenizer_config.json; default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("--tokenizer-config", args->tokenizer_config_path, "a tokenizer_config.json instead of -m");
  app.add_option("--template", args->template_path, "a Jinja template file instead of the config's chat_template");
  app.add_option("--messages", args->messages_path, "JSON: a list of messages, or {\"messages\": [...], vars...}")
      ->required();
  app.add_flag("--add-generation-prompt", args->add_generation_prompt, "end with the assistant turn's header");
  return [args] {
    if (args->model_dir.empty() && args->tokenizer_config_path.empty() && args->template_path.empty()) {
      args->model_dir = default_model_dir();
    }
    return run_template(*args);
  };
}

}  // namespace dsmoe::cli
