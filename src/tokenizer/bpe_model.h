// tokenizer.json "model" of type BPE: a vocabulary and ranked merges, applied to one pre-tokenized word at a time
// exactly as HF's models::bpe does (lowest-rank pair first, leftmost on ties; unknown characters to byte-fallback
// <0xNN> tokens or the unk token).
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsmoe {

// Hashing std::string and std::string_view alike, so that lookups by view allocate nothing.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
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
  static uint64_t pair_key(int32_t left, int32_t right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }

  void parse_merges(const nlohmann::json& merges);
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  void apply_merges(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const;

  TokenMap vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  std::string unk_token_;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  int32_t byte_ids_[256];  // <0xNN> ids for byte fallback, -1 where absent

  // Words seen before and their ids; HF keeps the same per-word cache. Bounded so memory cannot grow forever.
  static constexpr size_t kCacheCapacity = 1 << 16, kCacheMaxWordBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace dsmoe
