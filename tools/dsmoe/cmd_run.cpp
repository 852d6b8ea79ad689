// dsmoe run: generate text from a prompt (-p, -f or stdin), streamed to stdout as it is produced.
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "generation_options.h"
#include "timings.h"
#include "wait_notice.h"

namespace dsmoe::cli {
namespace {

struct RunArgs {
  GenerationOptions generation;
  std::string prompt;
  std::string prompt_file;
  bool display_prompt = true;
  std::string ids_out;  // optional JSON record of prompt and generated ids
};

std::string read_prompt(const RunArgs& args) {
  if (!args.prompt.empty()) return args.prompt;
  if (!args.prompt_file.empty()) {
    return read_text_file(args.prompt_file);
  }
  return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

int run_generation(RunArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const std::string prompt = args.generation.escape ? process_escapes(read_prompt(args)) : read_prompt(args);
  LoadedModel loaded = load_for_generation(args.generation);
  Sampler sampler = make_sampler(args.generation);
  Generator generator(*loaded.model, *loaded.tokenizer, loaded.context);
  report_generation_setup(args.generation, *loaded.model, generator);

  GenerationRequest request;
  request.tokens = prompt_tokens(*loaded.tokenizer, prompt);
  request.max_new_tokens = args.generation.max_new_tokens;
  request.stop_strings = args.generation.stop_strings;
  request.end_tokens = loaded.end_tokens;
  // The prompt is shown when the reply starts, so that the notice of a long prefill does not draw over it.
  WaitNotice prefill_notice(cat("prompt: ", request.tokens.size(), " tokens"), !args.generation.quiet);
  bool started = false;
  const GenerationStats stats = generator.generate(request, sampler, [&](std::string_view text) {
    if (!started) {
      prefill_notice.stop();
      if (args.display_prompt) std::cout << prompt;
      started = true;
    }
    std::cout << text << std::flush;
  });
  std::cout << "\n" << std::flush;
  if (stats.reason == StopReason::kContextFull) {
    std::cerr << "dsmoe: stopped: the context of " << loaded.context << " tokens is full (raise --ctx)\n";
  }
  if (!args.generation.quiet) {
    Timings timings;
    timings.load_seconds = loaded.model->load_seconds();
    timings.add(stats);
    timings.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << "\n";
    print_timings(timings, std::cerr);
    std::cerr << "dsmoe: stop: " << stop_reason_text(stats.reason) << "\n";
  }
  if (!args.ids_out.empty()) {
    std::ofstream out(args.ids_out);
    if (!out) fail(args.ids_out, ": cannot create");
    out << nlohmann::json{{"prompt", request.tokens},
                          {"generated", stats.generated},
                          {"stop", stop_reason_text(stats.reason)}}
               .dump()
        << "\n";
  }
  return 0;
}

}  // namespace

Handler add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  add_generation_options(app, args->generation);
  app.add_option("-p,--prompt", args->prompt, "the prompt (default: -f FILE, else standard input)");
  app.add_option("-f,--file", args->prompt_file, "read the prompt from a file");
  app.add_flag("!--no-display-prompt", args->display_prompt, "print only the generated text");
  app.add_option("--ids-out", args->ids_out, "write the prompt and generated token ids as JSON");
  return [args] { return run_generation(*args); };
}

}  // namespace dsmoe::cli
