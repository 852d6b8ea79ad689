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
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "dsmoe/json_file.h"
#include "dsmoe/model_metadata.h"
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

int run_template(const TemplateArgs& args) {
  if (args.model_dir.empty() && args.tokenizer_config_path.empty() && args.template_path.empty()) {
    fail("template: give -m DIR, --tokenizer-config FILE or --template FILE");
  }
  std::string config_name = "(no tokenizer config)";
  nlohmann::json tokenizer_config = nlohmann::json::object();
  if (!args.tokenizer_config_path.empty()) {
    config_name = args.tokenizer_config_path;
    tokenizer_config = read_json_file(config_name);
  } else if (!args.model_dir.empty()) {
    config_name = is_gguf_path(args.model_dir) ? args.model_dir + " (tokenizer.chat_template)"
                                               : (std::filesystem::path(args.model_dir) / "tokenizer_config.json").string();
    tokenizer_config = load_tokenizer_config(args.model_dir);
  }
  // The template in the order transformers prefers them: --template, the model's chat_template.jinja, its
  // chat_template.json, then tokenizer_config's chat_template.
  const std::optional<std::string> source = !args.template_path.empty() ? read_text_file(args.template_path)
                                            : !args.model_dir.empty()   ? find_chat_template(args.model_dir, tokenizer_config)
                                                                        : chat_template_source(tokenizer_config);
  if (!source) {
    fail("template: ", config_name, " has no chat_template (HF's apply_chat_template refuses such a tokenizer too); ",
         "pass --template FILE");
  }
  const ChatTemplate chat_template(*source);

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
