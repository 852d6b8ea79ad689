// Writing model files: a model stored again in another file type (what llama-quantize and llama.cpp's
// convert_hf_to_gguf.py do) and random-weight models of any config.json (the real 16B shape for speed tests,
// tiny ones for tests). Tensors are written one at a time, so no model is ever whole in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace dsmoe {

// The file types, as llama-quantize names them: "f32|f16|bf16|q8_0|q4_0|...|q6_k" (case-insensitive).
std::string file_type_names();
bool is_file_type_name(const std::string& name);
// The per-tensor choices of a file type, in words (llama-quantize's rules): for --help.
const char* file_type_rules();

// Called after each tensor with the bytes written so far and the total.
using WriteProgress = std::function<void(uint64_t written, uint64_t total)>;

struct QuantizeOptions {
  std::string file_type = "f16";
  std::string name;  // general.name; empty: the input's file name
  WriteProgress progress;
};

struct WrittenModel {
  std::string file_type;  // the canonical name: "q4_k_m"
  uint64_t bytes = 0;
  bool has_tokenizer = false;  // false: the input had none, so the output carries none
};

// `input` (an HF folder or a GGUF file) written as the GGUF file `output` in llama.cpp's layout: each tensor read,
// widened to float32 and stored as the file type chooses for it. An Error when output would overwrite input.
WrittenModel quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options);

struct RandomModelOptions {
  std::string file_type = "bf16";
  bool hf_folder = false;     // false: one GGUF file; true: config.json + safetensors shards (f32, f16, bf16)
  uint64_t seed = 1234;       // the same seed gives the same values in every format and type
  std::string tokenizer_of;   // a model whose tokenizer to include, padded to the vocabulary; empty: none
  int64_t shard_bytes = int64_t(5) << 30;  // hf: the largest shard (HF's default max_shard_size, 5 GB)
  WriteProgress progress;
};

// A model of `config` (config.json's content; `config_name` names it in errors and in general.name) with random
// weights, written to `output`.
void write_random_model(const nlohmann::json& config, const std::string& config_name, const std::string& output,
                        const RandomModelOptions& options);

}  // namespace dsmoe
