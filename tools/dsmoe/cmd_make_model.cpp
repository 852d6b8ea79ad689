// `dsmoe make-model --config CONFIG.json --type T --format gguf|hf --out PATH [--seed S]`: a random-weight model of
// any config (the real deepseek-moe-16b among them) written straight to a file, tensor by tensor, so the model is
// never whole in memory. The values are random_tensor_values (write_random_model, include/dsmoe/model_writer.h): the same seed gives
// the same model in every format and type. The tokenizer is another model's (default: the shipped one), padded
// to the config's vocabulary with unused [PAD{i}] tokens as llama.cpp's converter pads.
#include <iostream>
#include <memory>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/json_file.h"
#include "dsmoe/model_writer.h"
#include "flag_checks.h"
#include "generation_options.h"
#include "progress_bar.h"

namespace dsmoe::cli {
namespace {

struct MakeModelArgs {
  std::string config_path;
  std::string type = "bf16";
  std::string format = "gguf";
  std::string out;
  std::string tokenizer;  // a model folder or GGUF whose tokenizer to use; "none" for no tokenizer
  int64_t seed = 1234;
  int64_t shard_bytes = RandomModelOptions{}.shard_bytes;
};

int run_make_model(const MakeModelArgs& args) {
  if (!is_file_type_name(args.type)) fail("--type: '", args.type, "' is not one of ", file_type_names());
  if (args.format != "gguf" && args.format != "hf") fail("--format: '", args.format, "' is not gguf or hf");
  if (args.shard_bytes < (int64_t(1) << 20)) fail("--shard-size: at least 1 MiB");
  RandomModelOptions options;
  options.file_type = args.type;
  options.hf_folder = args.format == "hf";
  options.seed = uint64_t(args.seed);
  options.shard_bytes = args.shard_bytes;
  if (args.tokenizer != "none") options.tokenizer_of = args.tokenizer.empty() ? default_model_dir() : args.tokenizer;
  ProgressBar bar("make-model");
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  write_random_model(read_json_file(args.config_path), args.config_path, args.out, options);
  bar.finish();
  std::cout << args.out << ": random " << args.format << " model, " << args.type << ", seed " << args.seed << "\n";
  return 0;
}

}  // namespace

Handler add_make_model_command(CLI::App& app) {
  auto args = std::make_shared<MakeModelArgs>();
  app.add_option("--config", args->config_path, "config.json of the model (e.g. configs/deepseek-moe-16b-base.json)")
      ->required();
  app.add_option("--type", args->type, "gguf: " + file_type_names() + "; hf: f32|f16|bf16")->capture_default_str();
  app.add_option("--format", args->format, "gguf or hf (safetensors shards)")->capture_default_str();
  app.add_option("--out", args->out, "the .gguf file or HF folder to write")->required();
  app.add_option("--seed", args->seed, "random seed")->capture_default_str()->check(integer_in(0, kNoLimit));
  app.add_option("--tokenizer", args->tokenizer,
                 "model whose tokenizer to include (default: the shipped model's; 'none' for no tokenizer)");
  app.add_option("--shard-size", args->shard_bytes, "hf: the largest shard in bytes")->capture_default_str();
  return [args] { return run_make_model(*args); };
}

}  // namespace dsmoe::cli
