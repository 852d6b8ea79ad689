// A tokenizer loaded from a HuggingFace tokenizer.json, giving the ids that HF `tokenizers` gives:
//   text -> added tokens split out -> normalizer -> pre-tokenizer -> BPE per word -> post-processor -> ids
//   ids  -> token strings -> decoder -> text
// docs/TOKENIZER.md lists what is supported and how exactness is checked (tests/tokenizer_compat).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

class AddedVocabulary;
class BpeModel;
class Decoder;
class Normalizer;
class PostProcessor;
class PreTokenizer;

class Tokenizer {
 public:
  // tokenizer.json; tokenizer_config.json (and config.json) beside it are read when present.
  static std::unique_ptr<Tokenizer> load(const std::string& tokenizer_json_path);
  static std::unique_ptr<Tokenizer> load_dir(const std::string& model_dir);  // DIR/tokenizer.json
  // From parsed JSON; `config` is tokenizer_config.json's content (an empty object when there is none).
  // `model_config` is config.json's, consulted for bos_token_id/eos_token_id when `config` names no token.
  static std::unique_ptr<Tokenizer> from_json(const nlohmann::json& tokenizer_json,
                                              nlohmann::json config = nlohmann::json::object(),
                                              const nlohmann::json& model_config = nlohmann::json::object());
  ~Tokenizer();

  // HF encode(text, add_special_tokens). Invalid UTF-8 is first made valid, each maximal ill-formed subsequence
  // becoming U+FFFD, which is the string a JS or Python caller of HF would hold after decoding those bytes.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // HF decode(ids, skip_special_tokens), except that an id with no token is an Error instead of being dropped.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  std::string token_text(int32_t id) const;  // the vocab (or added-token) string; Error when the id has none
  std::optional<int32_t> token_id(std::string_view token) const;
  int64_t vocab_size() const;  // one past the largest id, added tokens included
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  bool is_special(int32_t id) const;  // dropped by decode(..., skip_special_tokens = true)
  const nlohmann::json& config_json() const { return config_; }

 private:
  Tokenizer();
  // The token string of an id as decode sees it; null when the id has none.
  const std::string* decode_text(int32_t id) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<AddedVocabulary> added_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  nlohmann::json config_;
  std::optional<int32_t> bos_id_, eos_id_;
};

// Streaming decode for generation: push ids one at a time and get back only text that is final, never half a
// UTF-8 character; HF's DecodeStream algorithm (decode a short window of ids, emit what extends the previous text
// and does not end in U+FFFD), so decoders that look at neighbours (Strip, Metaspace) stream correctly too.
class DecodeStream {
 public:
  explicit DecodeStream(const Tokenizer& tokenizer, bool skip_special_tokens);
  std::string push(int32_t id);  // "" while the text so far is not yet complete
  std::string flush();           // whatever is left (may end in U+FFFD when generation stopped mid-character)

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;  // the window: ids already shown (prefix_index_ of them) and those not yet
  std::string prefix_;        // decode of the shown part of the window
  size_t prefix_index_ = 0;
};

}  // namespace dsmoe
