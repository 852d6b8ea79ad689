// dsmoe chat: an interactive conversation rendered with the model's own chat template. The KV cache
// is kept across turns: each turn re-renders the conversation and prefills only what is new.
#include <unistd.h>

#include <iostream>

#include "commands.h"
#include "core/errors.h"
#include "generation_options.h"
#include "tokenizer/chat_template.h"

namespace dsmoe::cli {
namespace {

struct ChatArgs {
  GenerationOptions generation;
  std::string system;
};

int run_chat(ChatArgs& args) {
  LoadedModel loaded = load_for_generation(args.generation);
  const auto& tokenizer_config = loaded.tokenizer->config_json();
  const auto source = chat_template_source(tokenizer_config);
  if (!source) fail(args.generation.model_dir, ": tokenizer_config.json has no chat_template");
  const ChatTemplate chat_template(*source);
  Sampler sampler = make_sampler(args.generation);
  Generator generator(*loaded.model, *loaded.tokenizer, loaded.context);

  nlohmann::json messages = nlohmann::json::array();
  if (!args.system.empty()) messages.push_back({{"role", "system"}, {"content", args.system}});
  const bool interactive = isatty(STDIN_FILENO) != 0;
  if (interactive) std::cerr << "dsmoe chat: type a message, Ctrl-D to end.\n";
  std::string line;
  while (true) {
    if (interactive) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    const std::string prompt = chat_template.render(chat_template_context(tokenizer_config, messages, true));
    GenerationRequest request;
    // The template writes the special tokens itself, as HF's apply_chat_template assumes.
    request.tokens = loaded.tokenizer->encode(prompt, /*add_special_tokens=*/false);
    request.max_new_tokens = args.generation.max_new_tokens;
    request.stop_strings = args.generation.stop_strings;
    request.end_tokens = loaded.end_tokens;
    std::string reply;
    const GenerationStats stats = generator.generate(request, sampler, [&](std::string_view text) {
      reply += text;
      std::cout << text << std::flush;
    });
    std::cout << "\n";
    print_speed(stats, args.generation);
    messages.push_back({{"role", "assistant"}, {"content", reply}});
    if (stats.reason == StopReason::kContextFull) {
      std::cerr << "dsmoe: the context of " << loaded.context << " tokens is full; the conversation ends here\n";
      break;
    }
  }
  return 0;
}

}  // namespace

Handler add_chat_command(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  add_generation_options(app, args->generation);
  app.add_option("--system", args->system, "a system message to start the conversation");
  return [args] { return run_chat(*args); };
}

}  // namespace dsmoe::cli
