// write_random_model: a random-weight model of any config, written tensor by tensor (never whole in memory). The
// values are random_tensor_values (random_weights.h), so the same seed gives the same model in every format and
// type. The tokenizer is another model's, padded to the config's vocabulary with unused [PAD{i}] tokens as
// llama.cpp's converter pads.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "dsmoe/model_writer.h"
#include "io/safetensors_writer.h"
#include "loaders/gguf_export.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "loaders/model_files.h"
#include "loaders/quant_plan.h"
#include "loaders/random_weights.h"
#include "quant/quantize.h"

namespace dsmoe {
namespace {

// The HF folder: config.json, model-0000k-of-0000n.safetensors shards with an index, the tokenizer files.
void write_hf_folder(const std::string& out, const RandomModelOptions& options, const nlohmann::json& config_json,
                     const ModelConfig& config, DType dtype, const TokenizerFiles& tokenizer) {
  const std::filesystem::path dir(out);
  std::filesystem::create_directories(dir);
  const std::vector<WeightSpec> specs = weight_specs(config);
  std::vector<std::vector<SafetensorsWriter::Entry>> shards(1);
  uint64_t shard_size = 0, total = 0;
  for (const WeightSpec& spec : specs) {
    const uint64_t bytes = TensorView{dtype, spec.shape, nullptr}.bytes();
    if (!shards.back().empty() && shard_size + bytes > uint64_t(options.shard_bytes)) {
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
      random_tensor_values(spec, options.seed, values.data());
      quantize_rows(dtype, values.data(), bytes.data(), view.rows(), view.row_elements());
      writer.write_tensor(entry.name, bytes.data(), bytes.size());
      weight_map[entry.name] = shard_name(s);
      written += bytes.size();
      if (options.progress) options.progress(written, total);
    }
    writer.finish();
  }
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

}  // namespace

void write_random_model(const nlohmann::json& config_json, const std::string& config_name, const std::string& output,
                        const RandomModelOptions& options) {
  FileType type{};
  if (!parse_file_type(options.file_type, &type)) {
    fail("file type '", options.file_type, "' is not one of ", file_type_names());
  }
  if (options.shard_bytes < (int64_t(1) << 20)) fail("shard size ", options.shard_bytes, ": at least 1 MiB");
  const ModelConfig config = parse_model_config(config_json, config_name);
  TokenizerFiles tokenizer;
  if (!options.tokenizer_of.empty()) {
    tokenizer = open_tokenizer_files(options.tokenizer_of);
    if (tokenizer.tokenizer_json.is_null()) fail(options.tokenizer_of, ": no tokenizer found");
  }
  if (options.hf_folder) {
    const DType dtype = file_type_info(type).base;
    if (is_block_format(dtype)) fail("file type ", options.file_type, ": an HF folder holds f32, f16 or bf16");
    write_hf_folder(output, options, config_json, config, dtype, tokenizer);
    return;
  }
  GgufVocabulary vocab;
  if (!tokenizer.tokenizer_json.is_null()) {
    vocab = gguf_vocabulary_from_hf(tokenizer.tokenizer_json, tokenizer.tokenizer_config, tokenizer.tokenizer_name,
                                    config.vocab_size);
  }
  GgufExportOptions gguf;
  gguf.file_type = type;
  gguf.name = "random " + std::filesystem::path(config_name).stem().string();
  gguf.progress = options.progress;
  const uint64_t seed = options.seed;
  write_gguf_model(
      output, config, vocab, [seed](const WeightSpec& spec, float* out) { random_tensor_values(spec, seed, out); },
      gguf);
}

}  // namespace dsmoe
