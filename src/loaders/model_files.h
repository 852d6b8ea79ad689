// A model as a file format gives it: an HF folder (config.json, safetensors, tokenizer files) or one GGUF file.
// Everything comes out neutral (a ModelConfig, a WeightSource, the tokenizer as tokenizer.json content), so the
// model and every interface above it never learn which format it was.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "dsmoe/dsmoe.h"
#include "dsmoe/model_metadata.h"  // is_gguf_path
#include "loaders/gguf_vocab.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

enum class ModelFormat { kHfFolder, kGguf };

struct ModelFiles {
  std::string path;
  ModelFormat format = ModelFormat::kHfFolder;
  ModelConfig config;
  std::unique_ptr<WeightSource> weights;  // owns the mapped (or read) files
  // The tokenizer as HF files would hold it; tokenizer_json is null when the model has no tokenizer.
  nlohmann::json tokenizer_json;
  nlohmann::json tokenizer_config = nlohmann::json::object();
  nlohmann::json generation_config = nlohmann::json::object();  // HF generation_config.json, when present
  std::string file_type;  // a GGUF's general.file_type as llama-quantize names it ("Q4_K_M"); empty otherwise
  std::string description;                                      // "HF folder, 2 safetensors files" / "GGUF v3, Q4_K_M"
  // The tokenizer as GGUF metadata: read from a GGUF, or translated from an HF tokenizer.json on request
  // (gguf_vocabulary_of), for writing GGUF files.
  std::optional<GgufVocabulary> gguf_vocabulary;
};

// The GGUF vocabulary of any model files: a GGUF's own, or the HF tokenizer translated (padded to the config's
// vocabulary with unused [PAD{i}] tokens, as llama.cpp's converter does). Empty when the model has no tokenizer.
GgufVocabulary gguf_vocabulary_of(const ModelFiles& files);

// Whether the weight files under `path` (a .gguf, or a folder's *.safetensors) take at most half of the memory
// the system reports available (MemAvailable): then reading them into memory is the faster choice.
bool weights_fit_in_memory(const std::string& path);

struct OpenOptions {
  bool use_mmap = true;  // false: read the weights into memory (transparent huge pages where offered)
};

// The options that hold the weights under `path` as LoadOptions::weights asks: kAuto reads them into memory
// when weights_fit_in_memory(path), and maps them otherwise.
OpenOptions open_options(WeightMemory weights, const std::string& path);

// `path` is a folder (HF) or a .gguf file; anything else is an Error naming it.
ModelFiles open_model_files(const std::string& path, const OpenOptions& options = {});



// Only the tokenizer of a model (a folder's tokenizer.json + tokenizer_config.json, or a GGUF's tokenizer.ggml.*
// without touching its weights); tokenizer_json is null when there is none.
struct TokenizerFiles {
  nlohmann::json tokenizer_json;
  nlohmann::json tokenizer_config = nlohmann::json::object();
  std::string tokenizer_name;  // for messages: the tokenizer.json path, or the GGUF file
};
TokenizerFiles open_tokenizer_files(const std::string& path);

}  // namespace dsmoe
