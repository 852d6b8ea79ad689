// tokenizer.json "model" of type BPE: a vocabulary and ranked merges, applied to one pre-tokenized word at a time
// exactly as HF's models::bpe does (lowest-rank pair first, leftmost on ties; unknown characters to byte-fallback
// <0xNN> tokens or the unk token).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pair_table.h"
#include "tokenizer/word_cache.h"

namespace dsmoe {

using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  explicit BpeModel(const nlohmann::json& spec);  // the "model" object; throws Error naming the part

  // Appends the ids of one word (a non-empty pre-token).
  void tokenize(std::string_view word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_id(std::string_view token) const;
  const std::string* token_text(int32_t id) const;  // null when no vocab entry has this id
  const TokenMap& vocab() const { return vocab_; }
  int32_t id_space() const { return int32_t(id_to_token_.size()); }  // one past the largest vocab id

 private:
  struct Merge {
    uint32_t rank;
    int32_t merged_id;
  };

  void parse_merges(const nlohmann::json& merges);
  void prepare_chunking();
  std::optional<int32_t> char_id(char32_t c, std::string_view text) const;
  void merge_cached(std::string_view word, std::vector<int32_t>& ids) const;
  void merge_in_chunks(std::string_view word, std::vector<int32_t>& ids) const;
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  void apply_merges(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;

  TokenMap vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  PairTable<Merge> merges_;  // (left id, right id) -> rank and merged id
  std::optional<int32_t> unk_id_;
  std::string unk_token_;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  int32_t byte_ids_[256];  // <0xNN> ids for byte fallback, -1 where absent

  // Long words are cut where no merge can ever join the two sides (see merge_in_chunks): between characters x
  // and y when no merge (a, b) has a ending in x and b starting with y. These are the (x, y) that some merge joins.
  PairTable<bool> joinable_chars_;
  bool plain_symbols_ = false;  // no subword prefix or suffix: a word's first symbols are its characters
  bool can_chunk_ = true;       // plain symbols, and no merge with an empty side
  // Ids of single-character tokens by code point, for the common characters (-1: not a token).
  static constexpr char32_t kDirectChars = 0x3400;
  std::vector<int32_t> direct_char_ids_;

  static constexpr size_t kChunkWordBytes = 64;  // words this long are merged in chunks
  // Words already encoded -> their ids. With ignore_merges a word's ids are not always its merge, so the merges of
  // chunks are then kept apart.
  mutable WordCache word_cache_, merge_cache_;
};

}  // namespace dsmoe
