#include "dsmoe/model_metadata.h"

#include <filesystem>

#include "dsmoe/chat_template.h"
#include "dsmoe/json_file.h"
#include "dsmoe/text_file.h"
#include "dsmoe/tokenizer.h"
#include "io/gguf_file.h"
#include "loaders/gguf_model.h"
#include "loaders/hf_config.h"
#include "loaders/model_files.h"
#include "loaders/rope_config.h"

namespace dsmoe {

std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& path) {
  if (!is_gguf_path(path)) return Tokenizer::load_dir(path);
  const TokenizerFiles files = open_tokenizer_files(path);
  if (files.tokenizer_json.is_null()) fail(path, ": the GGUF file has no tokenizer (tokenizer.ggml.tokens)");
  return Tokenizer::from_json(files.tokenizer_json, files.tokenizer_config);
}

nlohmann::json load_tokenizer_config(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    // Only tokenizer_config.json: a real tokenizer.json takes a third of a second to parse and is not needed.
    const std::filesystem::path config = std::filesystem::path(path) / "tokenizer_config.json";
    return std::filesystem::exists(config) ? read_json_file(config.string()) : nlohmann::json::object();
  }
  if (!is_gguf_path(path)) fail(path, ": not a model (expected a folder or a GGUF file)");
  return open_tokenizer_files(path).tokenizer_config;
}

std::optional<std::string> find_chat_template(const std::string& path, const nlohmann::json& tokenizer_config) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    const std::filesystem::path folder(path);
    if (std::filesystem::exists(folder / "chat_template.jinja")) {
      return read_text_file((folder / "chat_template.jinja").string());
    }
    if (std::filesystem::exists(folder / "chat_template.json")) {
      const nlohmann::json file = read_json_file((folder / "chat_template.json").string());
      if (std::optional<std::string> source = chat_template_source(file)) return source;
    }
  }
  return chat_template_source(tokenizer_config);
}

ModelRope read_model_rope(const std::string& path_or_config, const RopeOverrides& overrides, int64_t context) {
  std::error_code error;
  ModelConfig config = std::filesystem::is_directory(path_or_config, error)
                           ? load_model_config((std::filesystem::path(path_or_config) / "config.json").string())
                       : is_gguf_path(path_or_config)
                           ? gguf_model_config(GgufFile(path_or_config))  // metadata only
                           : load_model_config(path_or_config);
  apply_rope_overrides(config, overrides);
  return {config.rope_params(), config.head_dim, config.max_position_embeddings,
          describe_rope(config, context > 0 ? context : config.max_position_embeddings)};
}

}  // namespace dsmoe
