// dsmoe: a DeepSeek-MoE inference engine. `dsmoe --help` lists the subcommands.
#include <filesystem>
#include <iostream>
#include <map>

#include "commands.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "flag_checks.h"

int main(int argc, char** argv) {
  CLI::App app{"dsmoe: DeepSeek-MoE inference with RoPE, exact to the HuggingFace model"};
  app.require_subcommand(1);
  app.fallthrough();  // -t may follow the subcommand, as in llama.cpp
  int threads = 0;
  app.add_option("-t,--threads", threads, "worker threads (default: all cores)")->check(dsmoe::cli::thread_count());

  std::map<CLI::App*, dsmoe::cli::Handler> handlers;
  auto add = [&](const char* name, const char* help, auto registrar) {
    CLI::App* sub = app.add_subcommand(name, help);
    handlers[sub] = registrar(*sub);
  };
  add("run", "generate text from a prompt, streamed", dsmoe::cli::add_run_command);
  add("chat", "interactive chat with the model's chat template", dsmoe::cli::add_chat_command);
  add("tokenize", "text to token ids, or ids to text with --decode", dsmoe::cli::add_tokenize_command);
  add("template", "render the chat template over messages", dsmoe::cli::add_template_command);
  add("inspect", "show the forward pass: shapes, parameters, memory", dsmoe::cli::add_inspect_command);
  add("logits", "run the forward pass over token ids and write .npy files", dsmoe::cli::add_logits_command);
  add("bench", "prompt and generation speed, llama-bench's pp/tg tests", dsmoe::cli::add_bench_command);
  add("perplexity", "perplexity of a text file, by windows or a sliding window", dsmoe::cli::add_perplexity_command);
  add("passkey", "passkey retrieval accuracy at a context length and needle depths", dsmoe::cli::add_passkey_command);
  add("convert", "an HF folder to a GGUF file in llama.cpp's layout", dsmoe::cli::add_convert_command);
  add("quantize", "an HF folder or GGUF to a GGUF of another type (q4_k_m, q8_0, ...)", dsmoe::cli::add_quantize_command);
  add("make-model", "a random-weight model at any config, written as GGUF or HF", dsmoe::cli::add_make_model_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every other parse failure (an unknown flag, a value out of range) is a user error like any other: one
    // line naming the flag, and exit code 1.
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    std::string command = "dsmoe";
    for (const CLI::App* sub : app.get_subcommands()) command += " " + sub->get_name();
    std::cerr << "(" << command << " --help lists the flags)\n";
    return 1;
  }
  dsmoe::set_num_threads(threads);
  try {
    for (auto& [sub, handler] : handlers) {
      if (sub->parsed()) return handler();
    }
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    return 1;
  } catch (const dsmoe::Error& e) {
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dsmoe: internal error: " << e.what() << "\n";
    return 2;
  }
  return 1;
}
