// tokenizer.json "added_tokens": strings matched in the text before the model sees it, like HF's AddedVocabulary.
// Tokens with normalized=false are found in the raw text; the text between them is normalized, and then tokens
// with normalized=true are found in that. Among matches starting at the same place the longest wins
// (leftmost-longest), and single_word / lstrip / rstrip refine a match as HF does.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/segment.h"

namespace dsmoe {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // Ids as HF assigns them: the model's id when the content is in its vocab, else the next free id.
  AddedVocabulary(const nlohmann::json& added_tokens, const BpeModel& model, const Normalizer* normalizer);

  // The text cut at added tokens, every stretch between them normalized (HF extract_and_normalize).
  Segments extract_and_normalize(const std::string& text, const Normalizer* normalizer) const;

  const AddedToken* find(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view content) const;
  bool is_special_content(std::string_view content) const {
    return special_contents_.find(content) != special_contents_.end();
  }
  // What decode shows for an added token: its content, normalized when the token is normalized (HF quirk).
  const std::string& decoded_text(const AddedToken& token) const;
  int32_t id_space() const { return id_space_; }  // one past the largest added id (0 when none)
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over token contents, for leftmost-longest search.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
      int32_t token = -1;                                       // index into tokens_ when a content ends here
    };
    std::vector<Node> nodes{1};
    bool first_byte[256] = {};
    void insert(std::string_view content, int32_t token);
    // The longest content starting at text[pos]: its token index and length, or {-1, 0}.
    std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;
    bool empty() const { return nodes.size() == 1; }
  };

  void split(Segment segment, const Trie& trie, Segments& out) const;

  std::vector<AddedToken> tokens_;
  std::vector<std::string> normalized_contents_;  // per token: content after the normalizer ("" when unchanged)
  std::unordered_map<int32_t, size_t> by_id_;
  TokenMap by_content_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> special_contents_;
  Trie raw_trie_, normalized_trie_;
  int32_t id_space_ = 0;
};

}  // namespace dsmoe
