#include "dsmoe/tokenizer.h"

#include <filesystem>

#include "core/errors.h"
#include "dsmoe/json_file.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

using nlohmann::json;

namespace {

// tokenizer_config.json names tokens as "<s>" or as {"content": "<s>", ...} (a serialized AddedToken).
std::optional<std::string> config_token_name(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return std::nullopt;
}

// config.json's bos_token_id / eos_token_id: an id or a list of ids (the first is taken).
std::optional<int32_t> model_config_id(const json& model_config, const char* key) {
  if (!model_config.is_object() || !model_config.contains(key)) return std::nullopt;
  const json& value = model_config[key];
  const json& id = value.is_array() && !value.empty() ? value[0] : value;
  if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) return std::nullopt;
  return id.get<int32_t>();
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_json(const json& spec, json config, const json& model_config) {
  if (!spec.is_object()) fail("tokenizer.json: must be a JSON object");
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->normalizer_ = make_normalizer(spec.value("normalizer", json()));
  t->pre_tokenizer_ = make_pre_tokenizer(spec.value("pre_tokenizer", json()));
  if (!spec.contains("model") || !spec["model"].is_object()) fail("tokenizer.json: 'model' is missing");
  const json& model = spec["model"];
  // A model without "type" is recognised by its fields, as HF's untagged deserialization does.
  const std::string type = model.contains("type") && model["type"].is_string()
                               ? model["type"].get<std::string>()
                               : (model.contains("merges") ? "BPE" : "(unknown)");
  if (type != "BPE") fail("tokenizer.json: model type '", type, "' is not supported (supported: BPE)");
  t->model_ = std::make_unique<BpeModel>(model);
  t->added_ = std::make_unique<AddedVocabulary>(spec.value("added_tokens", json()), *t->model_, t->normalizer_.get());
  t->post_processor_ = std::make_unique<PostProcessor>(spec.value("post_processor", json()));
  t->decoder_ = make_decoder(spec.value("decoder", json()));
  t->config_ = config.is_object() ? std::move(config) : json::object();

  auto special_id = [&](const char* token_key, const char* id_key) -> std::optional<int32_t> {
    if (auto name = config_token_name(t->config_, token_key)) {
      if (auto id = t->token_id(*name)) return id;
    }
    return model_config_id(model_config, id_key);
  };
  t->bos_id_ = special_id("bos_token", "bos_token_id");
  t->eos_id_ = special_id("eos_token", "eos_token_id");
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  const json spec = read_json_file(path);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const auto beside = [&](const char* name) {
    const std::filesystem::path p = dir / name;
    return std::filesystem::exists(p) ? read_json_file(p.string()) : json::object();
  };
  try {
    return from_json(spec, beside("tokenizer_config.json"), beside("config.json"));
  } catch (const Error& e) {
    fail(e.what(), " (in ", path, ")");
  }
}

std::unique_ptr<Tokenizer> Tokenizer::load_dir(const std::string& model_dir) {
  const std::filesystem::path path = std::filesystem::path(model_dir) / "tokenizer.json";
  if (!std::filesystem::exists(path)) fail(model_dir, ": no tokenizer.json in this directory");
  return load(path.string());
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const std::string valid = utf8::is_valid(text) ? std::string(text) : utf8::to_valid(text);
  std::vector<int32_t> ids;
  ids.reserve(valid.size() / 3 + 4);
  const auto to_model = [&](PreToken word) { model_->tokenize(word.text, ids); };
  for (const Segment& segment : added_->extract_and_normalize(valid, normalizer_.get())) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
    } else if (pre_tokenizer_) {
      pre_tokenizer_->pre_tokenize(PreToken{segment.text, segment.at_origin}, to_model);
    } else if (!segment.text.empty()) {
      model_->tokenize(segment.text, ids);
    }
  }
  return post_processor_->apply(std::move(ids), add_special_tokens);
}

const std::string* Tokenizer::decode_text(int32_t id) const {
  if (const AddedToken* added = added_->find(id)) return &added_->decoded_text(*added);
  return model_->token_text(id);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const std::string* text = decode_text(id);
    if (text == nullptr) fail("decode: token id ", id, " is not in the vocabulary (ids run 0..", vocab_size() - 1, ")");
    // HF compares the token's string, not its id, with the special tokens.
    if (skip_special_tokens && added_->is_special_content(*text)) continue;
    tokens.push_back(*text);
  }
  if (!decoder_) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
    return joined;
  }
  decoder_->decode_chain(tokens);
  std::string text;
  for (const std::string& piece : tokens) text += piece;
  return text;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (const AddedToken* added = added_->find(id)) return added->content;
  const std::string* text = model_->token_text(id);
  if (text == nullptr) fail("token id ", id, " is not in the vocabulary (ids run 0..", vocab_size() - 1, ")");
  return *text;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (auto id = added_->token_id(token)) return id;
  return model_->token_id(token);
}

int64_t Tokenizer::vocab_size() const { return std::max<int64_t>(model_->id_space(), added_->id_space()); }

bool Tokenizer::is_special(int32_t id) const {
  const std::string* text = decode_text(id);
  return text != nullptr && added_->is_special_content(*text);
}

}  // namespace dsmoe
