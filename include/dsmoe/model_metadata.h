// What a model's files say without loading its weights: whether a path is a GGUF file, the tokenizer and its
// configuration, the chat template, and the RoPE a model would run with. `path` is always what Model::load
// takes: an HF folder or a .gguf file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dsmoe/dsmoe.h"
#include "dsmoe/rope/rope.h"

namespace dsmoe {

class Tokenizer;

bool is_gguf_path(const std::string& path);  // a regular file starting with the GGUF magic

// The tokenizer of a model: a folder's tokenizer.json (+ tokenizer_config.json), or a GGUF's tokenizer.ggml.*
// metadata (the weights stay unread). An Error naming the path when the model has none.
std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& path);

// tokenizer_config.json of a folder (an empty object when the folder has none), or what a GGUF's metadata holds of
// it (special tokens, tokenizer.chat_template).
nlohmann::json load_tokenizer_config(const std::string& path);

// The chat template, in the order transformers looks for it: the folder's chat_template.jinja, its
// chat_template.json, then tokenizer_config's chat_template (a GGUF's tokenizer.chat_template). nullopt when the
// model has none.
std::optional<std::string> find_chat_template(const std::string& path, const nlohmann::json& tokenizer_config);

// The RoPE of a model after `overrides`, read from a folder's config.json, a GGUF's metadata, or a config.json
// given directly; `description` is Model::describe_rope's text for a session of `context` positions (0: the
// model's max_position_embeddings).
struct ModelRope {
  RopeParams params;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  std::string description;
};
ModelRope read_model_rope(const std::string& path_or_config, const RopeOverrides& overrides = {},
                          int64_t context = 0);

}  // namespace dsmoe
