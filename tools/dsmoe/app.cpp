#include "app.h"

#include <iostream>
#include <string>

#include "flag_checks.h"

namespace dsmoe::cli {

std::unique_ptr<DsmoeApp> make_app() {
  auto d = std::make_unique<DsmoeApp>();
  CLI::App& app = d->app;
  app.require_subcommand(1);
  app.fallthrough();  // -t may follow the subcommand, as in llama.cpp
  app.add_option("-t,--threads", d->threads, "worker threads (default: all cores)")->check(thread_count());

  auto add = [&](const char* name, const char* help, auto registrar) {
    CLI::App* sub = app.add_subcommand(name, help);
    d->handlers[sub] = registrar(*sub);
  };
  add("run", "generate text from a prompt, streamed", add_run_command);
  add("chat", "interactive chat with the model's chat template", add_chat_command);
  add("tokenize", "text to token ids, or ids to text with --decode", add_tokenize_command);
  add("template", "render the chat template over messages", add_template_command);
  add("inspect", "show the forward pass: shapes, parameters, memory", add_inspect_command);
  add("logits", "run the forward pass over token ids and write .npy files", add_logits_command);
  add("bench", "prompt and generation speed, llama-bench's pp/tg tests", add_bench_command);
  add("perplexity", "perplexity of a text file, by windows or a sliding window", add_perplexity_command);
  add("passkey", "passkey retrieval accuracy at a context length and needle depths", add_passkey_command);
  add("convert", "an HF folder to a GGUF file in llama.cpp's layout", add_convert_command);
  add("quantize", "an HF folder or GGUF to a GGUF of another type (q4_k_m, q8_0, ...)", add_quantize_command);
  add("make-model", "a random-weight model at any config, written as GGUF or HF", add_make_model_command);
  return d;
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
