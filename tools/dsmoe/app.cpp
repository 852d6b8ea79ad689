#include "app.h"

#include <cctype>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include "dsmoe/error.h"

#include "flag_checks.h"

namespace dsmoe::cli {

namespace {

// What llama.cpp users expect of every option: the last of a repeated flag wins (lists keep every value), and
// --help shows each default.
void apply_option_conventions(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->get_expected_max() <= 1) option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    option->capture_default_str();
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) apply_option_conventions(*sub);
}

std::string version_text() {
  return std::string("dsmoe ") + DSMOE_VERSION + " (C++20, " +
#if defined(__clang__)
         "clang " __clang_version__
#elif defined(__GNUC__)
         "GCC " __VERSION__
#else
         "an unknown compiler"
#endif
         + ")";
}

}  // namespace

std::unique_ptr<DsmoeApp> make_app() {
  auto d = std::make_unique<DsmoeApp>();
  CLI::App& app = d->app;
  app.require_subcommand(1);
  app.fallthrough();  // -t may follow the subcommand, as in llama.cpp
  app.add_option("-t,--threads", d->threads, "worker threads (default: all cores)")->check(thread_count());

  struct Command {
    const char* name;
    const char* help;
    Handler (*add)(CLI::App&);
  };
  static constexpr Command kCommands[] = {
      {"run", "generate text from a prompt, streamed", add_run_command},
      {"chat", "interactive chat with the model's chat template", add_chat_command},
      {"serve", "an OpenAI-compatible HTTP server (chat and completions, streaming)", add_serve_command},
      {"tokenize", "text to token ids, or ids to text with --decode", add_tokenize_command},
      {"template", "render the chat template over messages", add_template_command},
      {"inspect", "show the forward pass: shapes, parameters, memory", add_inspect_command},
      {"logits", "run the forward pass over token ids and write .npy files", add_logits_command},
      {"bench", "prompt and generation speed, llama-bench's pp/tg tests", add_bench_command},
      {"perplexity", "perplexity of a text file, by windows or a sliding window", add_perplexity_command},
      {"passkey", "passkey retrieval accuracy at a context length and needle depths", add_passkey_command},
      {"convert", "an HF folder to a GGUF file in llama.cpp's layout", add_convert_command},
      {"quantize", "an HF folder or GGUF to a GGUF of another type (q4_k_m, q8_0, ...)", add_quantize_command},
      {"make-model", "a random-weight model at any config, written as GGUF or HF", add_make_model_command},
  };
  for (const Command& command : kCommands) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    d->handlers[sub] = command.add(*sub);
  }
  app.set_version_flag("--version", version_text());
  apply_option_conventions(app);
  return d;
}

void check_single_dash_words(int argc, const char* const* argv) {
  // llama.cpp's multi-letter single-dash flags, and what they mean here.
  static const std::map<std::string_view, std::string_view> kHints = {
      {"-cnv", "dsmoe chat is the conversation mode"},
      {"-no-cnv", "dsmoe run never starts a conversation"},
      {"-fa", "attention always runs in tiles with an online softmax (flash attention's method): drop -fa"},
      {"-ngl", "dsmoe runs on the CPU: there are no layers to offload; drop -ngl"},
      {"-sm", "dsmoe runs on the CPU: there is nothing to split"},
      {"-ts", "dsmoe runs on the CPU: there is nothing to split"},
      {"-mg", "dsmoe runs on the CPU: there is no main GPU"},
      {"-sys", "the system prompt is --system"},
      {"-ctk", "the KV cache type is --cache-type (keys and values together)"},
      {"-ctv", "the KV cache type is --cache-type (keys and values together)"},
      {"-tb", "one thread count serves prompt and generation: -t"},
      {"-np", "parallel sequences are the server's (--parallel)"},
      {"-st", "dsmoe run answers one prompt; dsmoe chat keeps going"},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return;
    if (arg.size() < 3 || arg[0] != '-' || arg[1] == '-' || !std::isalpha(static_cast<unsigned char>(arg[1]))) {
      continue;
    }
    // A letter and its value joined (-n5, -t2, -c4096) is how CLI11 and getopt read one-letter flags.
    const std::string_view rest = arg.substr(2);
    if (rest.find_first_not_of("0123456789.,-") == std::string_view::npos) continue;
    if (const auto hint = kHints.find(arg); hint != kHints.end()) {
      fail(arg, " (a llama.cpp flag): ", hint->second);
    }
    fail(arg, ": a single dash takes one letter (-c 4096); long flags take two (--", arg.substr(1), ")");
  }
}

void report_parse_error(const DsmoeApp& d, const CLI::ParseError& error) {
  // Every parse failure (an unknown flag, a value out of range) is a user error like any other: one line
  // naming the flag.
  std::cerr << "dsmoe: error: " << error.what() << "\n";
  std::string command = "dsmoe";
  for (const CLI::App* sub : d.app.get_subcommands()) command += " " + sub->get_name();
  std::cerr << "(" << command << " --help lists the flags)\n";
}

}  // namespace dsmoe::cli
