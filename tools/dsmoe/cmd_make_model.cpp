// `dsmoe make-model --config CONFIG.json --type T --format gguf|hf --out PATH [--seed S]`: a random-weight model of
// any config (the real deepseek-moe-16b among them) written straight to a file, tensor by tensor, so the model is
// never whole in memory. The values are random_tensor_values (src/loaders/random_weights.h): the same seed gives
// the same model in every format and type. The tokenizer is another model's (default: the shipped one), padded
// to the config's vocabulary with unused [PAD{i}] tokens as llama.cpp's converter pads.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/errors.h"
#include "generation_options.h"
#include "io/json_file.h"
#include "io/safetensors_writer.h"
#include "loaders/gguf_export.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "loaders/model_files.h"
#include "loaders/random_weights.h"
#include "progress_bar.h"
#include "quant/quantize.h"
#include "flag_checks.h"

namespace dsmoe::cli {
namespace {

struct MakeModelArgs {
  std::string config_path;
  std::string type = "bf16";
  std::string format = "gguf";
  std::string out;
  std::string tokenizer;  // a model folder or GGUF whose tokenizer to use; "none" for no tokenizer
  int64_t seed = 1234;
  int64_t shard_bytes = int64_t(5) << 30;  // HF's default max_shard_size, 5 GB
};

// The HF folder: config.json, model-0000k-of-0000n.safetensors shards with an index, the tokenizer files.
void write_hf_folder(const MakeModelArgs& args, const nlohmann::json& config_json, const ModelConfig& config,
                     DType dtype, const TokenizerFiles& tokenizer) {
  const std::filesystem::path dir(args.out);
  std::filesystem::create_directories(dir);
  const std::vector<WeightSpec> specs = weight_specs(config);
  std::vector<std::vector<SafetensorsWriter::Entry>> shards(1);
  uint64_t shard_size = 0, total = 0;
  for (const WeightSpec& spec : specs) {
    const uint64_t bytes = TensorView{dtype, spec.shape, nullptr}.bytes();
    if (!shards.back().empty() && shard_size + bytes > uint64_t(args.shard_bytes)) {
      shards.emplace_back();
      shard_size = 0;
    }
    shards.back().push_back({hf_tensor_name(spec.key), dtype, spec.shape});
    shard_size += bytes;
    total += bytes;
  }
  auto shard_name = [&](size_t i) {
    if (shards.size() == 1) return std::string("model.safetensors");
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    return std::string(name);
  };
  nlohmann::json weight_map = nlohmann::json::object();
  ProgressBar bar("make-model");
  uint64_t written = 0;
  std::vector<float> values;
  std::vector<unsigned char> bytes;
  size_t spec_index = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    SafetensorsWriter writer((dir / shard_name(s)).string(), shards[s]);
    for (const auto& entry : shards[s]) {
      const WeightSpec& spec = specs[spec_index++];
      TensorView view{dtype, spec.shape, nullptr};
      values.resize(size_t(view.numel()));
      bytes.resize(view.bytes());
      random_tensor_values(spec, uint64_t(args.seed), values.data());
      quantize_rows(dtype, values.data(), bytes.data(), view.rows(), view.row_elements());
      writer.write_tensor(entry.name, bytes.data(), bytes.size());
      weight_map[entry.name] = shard_name(s);
      written += bytes.size();
      bar.update(written, total);
    }
    writer.finish();
  }
  bar.finish();
  if (shards.size() > 1) {
    const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    std::ofstream((dir / "model.safetensors.index.json").string()) << index.dump(2) << "\n";
  }
  nlohmann::json out_config = config_json;
  out_config["torch_dtype"] = dtype == DType::F32 ? "float32" : dtype == DType::F16 ? "float16" : "bfloat16";
  std::ofstream((dir / "config.json").string()) << out_config.dump(2) << "\n";
  if (!tokenizer.tokenizer_json.is_null()) {
    std::ofstream((dir / "tokenizer.json").string()) << tokenizer.tokenizer_json.dump() << "\n";
    std::ofstream((dir / "tokenizer_config.json").string()) << tokenizer.tokenizer_config.dump(2) << "\n";
  }
}

int run_make_model(const MakeModelArgs& args) {
  FileType type{};
  if (!parse_file_type(args.type, &type)) fail("--type: '", args.type, "' is not one of ", file_type_names());
  if (args.format != "gguf" && args.format != "hf") fail("--format: '", args.format, "' is not gguf or hf");
  if (args.shard_bytes < (int64_t(1) << 20)) fail("--shard-size: at least 1 MiB");
  const nlohmann::json config_json = read_json_file(args.config_path);
  const ModelConfig config = parse_model_config(config_json, args.config_path);

  TokenizerFiles tokenizer;
  if (args.tokenizer != "none") {
    const std::string from = args.tokenizer.empty() ? default_model_dir() : args.tokenizer;
    tokenizer = open_tokenizer_files(from);
    if (tokenizer.tokenizer_json.is_null()) fail(from, ": no tokenizer found (give --tokenizer MODEL or none)");
  }

  if (args.format == "hf") {
    const DType dtype = file_type_info(type).base;
    if (is_block_format(dtype)) fail("--type ", args.type, ": an HF folder holds f32, f16 or bf16");
    write_hf_folder(args, config_json, config, dtype, tokenizer);
  } else {
    GgufVocabulary vocab;
    if (!tokenizer.tokenizer_json.is_null())
      vocab = gguf_vocabulary_from_hf(tokenizer.tokenizer_json, tokenizer.tokenizer_config, tokenizer.tokenizer_name,
                                      config.vocab_size);
    GgufExportOptions options;
    options.file_type = type;
    options.name = "random " + std::filesystem::path(args.config_path).stem().string();
    ProgressBar bar("make-model");
    options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    const uint64_t seed = uint64_t(args.seed);
    write_gguf_model(
        args.out, config, vocab, [seed](const WeightSpec& spec, float* out) { random_tensor_values(spec, seed, out); },
        options);
    bar.finish();
  }
  std::cout << args.out << ": random " << args.format << " model, " << file_type_info(type).name << ", seed "
            << args.seed << "\n";
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
