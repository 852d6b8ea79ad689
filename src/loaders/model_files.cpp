#include "loaders/model_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/system_memory.h"
#include "dsmoe/json_file.h"
#include "io/tensor_store.h"
#include "loaders/gguf_model.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"

namespace dsmoe {
namespace {

// An HF weight source that owns its safetensors files.
class OwningHfWeightSource : public HfWeightSource {
 public:
  explicit OwningHfWeightSource(std::unique_ptr<SafetensorsStore> store)
      : HfWeightSource(*store), store_(std::move(store)) {}

 private:
  std::unique_ptr<SafetensorsStore> store_;
};

nlohmann::json optional_json(const std::filesystem::path& path) {
  return std::filesystem::exists(path) ? read_json_file(path.string()) : nlohmann::json::object();
}

ModelFiles open_hf_folder(const std::string& dir, const OpenOptions& options) {
  const std::filesystem::path folder(dir);
  ModelFiles files;
  files.path = dir;
  files.format = ModelFormat::kHfFolder;
  files.config = load_model_config((folder / "config.json").string());
  auto store =
      std::make_unique<SafetensorsStore>(dir, options.use_mmap ? FileAccess::kMap : FileAccess::kReadIntoMemory);
  files.description = cat("HF folder, ", store->file_count(), " safetensors file", store->file_count() == 1 ? "" : "s");
  files.weights = std::make_unique<OwningHfWeightSource>(std::move(store));
  if (std::filesystem::exists(folder / "tokenizer.json")) {
    files.tokenizer_json = read_json_file((folder / "tokenizer.json").string());
    files.tokenizer_config = optional_json(folder / "tokenizer_config.json");
  }
  files.generation_config = optional_json(folder / "generation_config.json");
  return files;
}

}  // namespace

bool weights_fit_in_memory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  uint64_t bytes = 0;
  if (fs::is_directory(path, error)) {
    for (const auto& entry : fs::directory_iterator(path, error)) {
      if (entry.path().extension() == ".safetensors" && entry.is_regular_file(error)) bytes += entry.file_size(error);
    }
  } else {
    bytes = fs::file_size(path, error);
  }
  if (error) return false;
  // MemAvailable counts the page cache, which the copy's pages replace as it is read (the file need not fit
  // twice); a fifth (at least 2 GiB) stays free for the KV cache, activations and the rest of the machine.
  const int64_t available = available_memory_bytes();
  if (available < 0) return false;
  const uint64_t reserve = std::max<uint64_t>(uint64_t(2) << 30, uint64_t(available) / 5);
  return bytes + reserve <= uint64_t(available);
}

OpenOptions open_options(WeightMemory weights, const std::string& path) {
  OpenOptions open;
  open.use_mmap = weights == WeightMemory::kMap || (weights == WeightMemory::kAuto && !weights_fit_in_memory(path));
  return open;
}

GgufVocabulary gguf_vocabulary_of(const ModelFiles& files) {
  if (files.gguf_vocabulary) return *files.gguf_vocabulary;
  if (files.tokenizer_json.is_null()) return {};
  return gguf_vocabulary_from_hf(files.tokenizer_json, files.tokenizer_config, files.path, files.config.vocab_size);
}

TokenizerFiles open_tokenizer_files(const std::string& path) {
  TokenizerFiles files;
  if (is_gguf_path(path)) {
    const GgufFile file(path);
    const GgufVocabulary vocab = gguf_vocabulary(file);
    files.tokenizer_name = path;
    if (!vocab.tokens.empty()) {
      files.tokenizer_json = tokenizer_json_from_gguf(vocab, path);
      files.tokenizer_config = tokenizer_config_from_gguf(vocab, path);
    }
    return files;
  }
  const std::filesystem::path folder(path);
  files.tokenizer_name = (folder / "tokenizer.json").string();
  if (std::filesystem::exists(folder / "tokenizer.json")) files.tokenizer_json = read_json_file(files.tokenizer_name);
  files.tokenizer_config = optional_json(folder / "tokenizer_config.json");
  return files;
}

bool is_gguf_path(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string_view(magic, 4) == "GGUF";
}

ModelFiles open_model_files(const std::string& path, const OpenOptions& options) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return open_hf_folder(path, options);
  }
  if (!std::filesystem::exists(path, error))
    fail(path, ": no such file or folder (expected a model folder or a .gguf file)");
  if (is_gguf_path(path)) return open_gguf_model(path, options);
  fail(path, ": not a model (expected a folder with config.json and safetensors, or a GGUF file)");
}

}  // namespace dsmoe
