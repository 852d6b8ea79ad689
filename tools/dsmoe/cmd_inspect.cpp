// dsmoe inspect: the forward pass as a tree of HF modules with the shapes entering and leaving each,
// parameter counts (total and active per token), weight bytes, KV-cache bytes (architecture_report).
#include <iostream>

#include "commands.h"
#include "dsmoe/architecture.h"
#include "dsmoe/error.h"
#include "flag_checks.h"
#include "generation_options.h"

namespace dsmoe::cli {
namespace {

struct InspectArgs {
  std::string model_dir;
  std::string config_path;
  int64_t batch = 1;
  int64_t seq = 0;  // 0: max_position_embeddings
};

int run_inspect(const InspectArgs& args) {
  if (args.model_dir.empty() == args.config_path.empty())
    fail("inspect: give -m MODEL or --config FILE, not both");
  const ArchitectureReport report = architecture_report(args.model_dir, args.config_path, args.batch, args.seq);
  for (const auto& key : report.unused_config_keys)
    std::cerr << "note: " << report.config_name << ": key '" << key << "' is not used\n";
  std::cout << report.text;
  return 0;
}

}  // namespace

// `dsmoe inspect rope`, in cmd_inspect_rope.cpp.
Handler add_inspect_rope_command(CLI::App& inspect);

Handler add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  app.add_option("-m,--model", args->model_dir, "model: a folder (config.json + safetensors) or a .gguf file (default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("--config", args->config_path, "a config.json alone, no weights needed");
  app.add_option("--batch", args->batch, "batch size for the shapes shown")->check(integer_in(1, kMaxTokens));
  app.add_option("--seq", args->seq, "sequence length (default: max_position_embeddings)")
      ->check(token_count());
  // Without the `rope` subcommand, inspect is the module tree as it always was.
  const Handler rope = add_inspect_rope_command(app);
  const CLI::App* rope_app = app.get_subcommand("rope");
  return [args, rope, rope_app] {
    if (rope_app->parsed()) return rope();
    if (args->model_dir.empty() && args->config_path.empty()) args->model_dir = default_model_dir();
    return run_inspect(*args);
  };
}

}  // namespace dsmoe::cli
