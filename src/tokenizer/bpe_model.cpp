#include "tokenizer/bpe_model.h"

#include <queue>

#include "core/errors.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

using nlohmann::json;
using namespace json_fields;

namespace {
constexpr const char* kBpeWhere = "tokenizer.json: model BPE";
constexpr int64_t kMaxTokenIds = int64_t(1) << 24;  // 16M: real vocabularies hold at most a few hundred thousand

std::optional<std::string> optional_string(const json& spec, const char* key) {
  if (!spec.contains(key) || spec[key].is_null()) return std::nullopt;
  if (!spec[key].is_string()) fail(kBpeWhere, ": '", key, "' must be a string or null, found ", spec[key].dump());
  return spec[key].get<std::string>();
}
}  // namespace

BpeModel::BpeModel(const json& spec) {
  const json& vocab = required(spec, "vocab", kBpeWhere);
  if (!vocab.is_object()) fail(kBpeWhere, ": 'vocab' must be an object of token -> id");
  int64_t max_id = -1;
  vocab_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      fail(kBpeWhere, ": vocab id of '", token, "' must be an integer in [0, 2^31), found ", id.dump());
    }
    vocab_[token] = id.get<int32_t>();
    max_id = std::max(max_id, id.get<int64_t>());
  }
  // Ids index a dense table: bounded before it is allocated (a vocab entry of id 2^31 - 1 would ask for 64 GiB).
  if (max_id >= kMaxTokenIds) {
    fail(kBpeWhere, ": vocab id ", max_id, " is not below the ", kMaxTokenIds, " ids supported (", vocab.size(),
         " tokens in the vocab)");
  }
  id_to_token_.resize(size_t(max_id + 1));
  has_id_.assign(size_t(max_id + 1), false);
  for (const auto& [token, id] : vocab_) {
    if (has_id_[size_t(id)]) {
      fail(kBpeWhere, ": vocab id ", id, " is given to both '", id_to_token_[size_t(id)], "' and '", token, "'");
    }
    id_to_token_[size_t(id)] = token;
    has_id_[size_t(id)] = true;
  }

  if (spec.contains("dropout") && !spec["dropout"].is_null() &&
      !(spec["dropout"].is_number() && spec["dropout"].get<double>() == 0.0)) {
    fail(kBpeWhere, ": dropout ", spec["dropout"].dump(), " is not supported (it makes encoding random)");
  }
  unk_token_ = optional_string(spec, "unk_token").value_or("");
  if (!unk_token_.empty()) unk_id_ = token_id(unk_token_);
  continuing_subword_prefix_ = optional_string(spec, "continuing_subword_prefix").value_or("");
  end_of_word_suffix_ = optional_string(spec, "end_of_word_suffix").value_or("");
  fuse_unk_ = bool_field(spec, "fuse_unk", false, kBpeWhere);
  byte_fallback_ = bool_field(spec, "byte_fallback", false, kBpeWhere);
  ignore_merges_ = bool_field(spec, "ignore_merges", false, kBpeWhere);

  static const char* kHex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const std::string name = cat("<0x", kHex[b >> 4], kHex[b & 15], ">");
    byte_ids_[b] = token_id(name).value_or(-1);
  }
  parse_merges(required(spec, "merges", kBpeWhere));
  prepare_chunking();
}

void BpeModel::parse_merges(const json& merges) {
  if (!merges.is_array()) fail(kBpeWhere, ": 'merges' must be an array");
  merges_.reserve(merges.size());
  auto id_of = [&](const std::string& token, size_t rank) {
    auto found = vocab_.find(token);
    if (found == vocab_.end()) fail(kBpeWhere, ": merge ", rank, " uses '", token, "', which is not in the vocab");
    return found->second;
  };
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {
      // "a b": exactly one space, as HF's convert_merges_to_hashmap demands.
      const std::string& text = merge.get_ref<const std::string&>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        fail(kBpeWhere, ": merge ", rank, " '", text, "' is not two tokens separated by one space");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      fail(kBpeWhere, ": merge ", rank, " must be \"a b\" or [\"a\", \"b\"], found ", merge.dump());
    }
    const int32_t left_id = id_of(left, rank), right_id = id_of(right, rank);
    // The merged token drops the right part's continuing-subword prefix (HF BpeBuilder::build).
    const size_t prefix = std::min(continuing_subword_prefix_.size(), right.size());
    const int32_t merged_id = id_of(left + right.substr(prefix), rank);
    // A repeated pair keeps its last rank, as HF's collect into a map does.
    merges_.set(uint32_t(left_id), uint32_t(right_id), Merge{uint32_t(rank), merged_id});
    if (left.empty() || right.empty()) {
      can_chunk_ = false;  // an empty token joins anything: no cut is provably safe
      continue;
    }
    size_t last = left.size() - 1;
    while (last > 0 && (static_cast<unsigned char>(left[last]) & 0xC0) == 0x80) --last;
    size_t first = 0;
    joinable_chars_.set(utf8::next(left, last), utf8::next(right, first), true);
  }
}

void BpeModel::prepare_chunking() {
  plain_symbols_ = continuing_subword_prefix_.empty() && end_of_word_suffix_.empty();
  can_chunk_ = can_chunk_ && plain_symbols_;
  direct_char_ids_.assign(kDirectChars, -1);
  for (const auto& [token, id] : vocab_) {
    if (token.empty()) continue;
    size_t pos = 0;
    const char32_t c = utf8::next(token, pos);
    if (pos == token.size() && c < kDirectChars) direct_char_ids_[c] = id;
  }
}

// The id of the one-character token `text` (whose code point is c).
std::optional<int32_t> BpeModel::char_id(char32_t c, std::string_view text) const {
  if (c < kDirectChars) {
    const int32_t id = direct_char_ids_[c];
    if (id < 0) return std::nullopt;
    return id;
  }
  return token_id(text);
}

std::optional<int32_t> BpeModel::token_id(std::string_view token) const {
  auto found = vocab_.find(token);
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

const std::string* BpeModel::token_text(int32_t id) const {
  if (id < 0 || size_t(id) >= has_id_.size() || !has_id_[size_t(id)]) return nullptr;
  return &id_to_token_[size_t(id)];
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty() || word_cache_.lookup(word, ids)) return;
  const size_t first = ids.size();
  if (ignore_merges_ && token_id(word)) {
    // Llama-3 style: a word that is itself a token is emitted whole, whatever the merges would do.
    ids.push_back(*token_id(word));
  } else if (can_chunk_ && word.size() >= kChunkWordBytes) {
    merge_in_chunks(word, ids);
  } else {
    merge_word(word, ids);
  }
  word_cache_.store(word, ids.data() + first, ids.size() - first);
}

// A long word (a whole line when there is no pre-tokenizer, as in Llama 2) is cut between characters x and y
// where x and y are tokens and no merge joins a token ending in x to one starting with y. No merge can then ever
// cross the cut, so HF's merge order inside each side is unchanged and the ids are those of the whole word; the
// pieces are short, so they hit the cache and the merge heap stays small.
void BpeModel::merge_in_chunks(std::string_view word, std::vector<int32_t>& ids) const {
  size_t chunk_begin = 0;
  char32_t previous = 0;
  bool previous_is_token = false;
  for (size_t pos = 0; pos < word.size();) {
    const size_t begin = pos;
    const char32_t c = utf8::next(word, pos);
    const bool is_token = char_id(c, word.substr(begin, pos - begin)).has_value();
    if (begin > chunk_begin && previous_is_token && is_token && !joinable_chars_.find(previous, c)) {
      merge_cached(word.substr(chunk_begin, begin - chunk_begin), ids);
      chunk_begin = begin;
    }
    previous = c;
    previous_is_token = is_token;
  }
  merge_cached(word.substr(chunk_begin), ids);
}

void BpeModel::merge_cached(std::string_view word, std::vector<int32_t>& ids) const {
  WordCache& cache = ignore_merges_ ? merge_cache_ : word_cache_;
  if (cache.lookup(word, ids)) return;
  const size_t first = ids.size();
  merge_word(word, ids);
  cache.store(word, ids.data() + first, ids.size() - first);
}

// HF BPE::merge_word: one symbol per character (with prefix/suffix), byte fallback or unk for unknown ones.
void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& ids) const {
  std::vector<int32_t> symbols;
  std::vector<uint32_t> lengths;  // bytes of the word covered by each symbol
  symbols.reserve(word.size());
  lengths.reserve(word.size());
  int32_t pending_unk = -1;  // an unk symbol not yet added (fuse_unk extends it), and its byte length
  uint32_t pending_unk_length = 0;
  auto add = [&](int32_t id, uint32_t length) {
    symbols.push_back(id);
    lengths.push_back(length);
  };
  std::string piece;
  for (size_t pos = 0; pos < word.size();) {
    const size_t begin = pos;
    pos += utf8::char_length(static_cast<unsigned char>(word[pos]));
    const uint32_t length = uint32_t(pos - begin);
    piece.clear();
    std::optional<int32_t> id;
    if (plain_symbols_) {
      size_t next = begin;
      id = char_id(utf8::next(word, next), word.substr(begin, length));
      if (!id) piece.assign(word.substr(begin, length));
    } else {
      if (begin > 0) piece += continuing_subword_prefix_;
      piece.append(word.substr(begin, length));
      if (pos >= word.size()) piece += end_of_word_suffix_;
      id = token_id(piece);
    }
    if (id) {
      if (pending_unk >= 0) add(pending_unk, pending_unk_length);
      pending_unk = -1;
      add(*id, length);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (const char b : piece) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(b)] >= 0;
      if (all_bytes) {
        for (const char b : piece) add(byte_ids_[static_cast<unsigned char>(b)], 1);
        continue;
      }
    }
    if (unk_token_.empty()) continue;  // no unk token: HF drops the character
    if (!unk_id_) fail(kBpeWhere, ": unk_token '", unk_token_, "' is not in the vocab");
    if (pending_unk >= 0 && fuse_unk_) {
      pending_unk_length += length;
    } else {
      if (pending_unk >= 0) add(pending_unk, pending_unk_length);
      pending_unk = *unk_id_;
      pending_unk_length = length;
    }
  }
  if (pending_unk >= 0) add(pending_unk, pending_unk_length);
  apply_merges(symbols, lengths);
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

// HF Word::merge_all without dropout: a min-heap of candidate pairs by (rank, position) over a linked list of
// symbols; an entry whose pair has changed since it was queued is skipped when popped.
void BpeModel::apply_merges(std::vector<int32_t>& symbols, std::vector<uint32_t>& lengths) const {
  const long n = long(symbols.size());
  if (n < 2) return;
  std::vector<long> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    prev[size_t(i)] = i - 1;
    next[size_t(i)] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    uint32_t rank;
    long pos;
    int32_t merged_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto lookup = [&](int32_t left, int32_t right) { return merges_.find(uint32_t(left), uint32_t(right)); };
  for (long i = 0; i + 1 < n; ++i) {
    if (const Merge* m = lookup(symbols[size_t(i)], symbols[size_t(i + 1)])) queue.push({m->rank, i, m->merged_id});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const size_t at = size_t(top.pos);
    if (lengths[at] == 0 || next[at] == -1) continue;  // merged away, or the last symbol
    const size_t right = size_t(next[at]);
    const Merge* current = lookup(symbols[at], symbols[right]);
    if (current == nullptr || current->merged_id != top.merged_id) continue;  // stale entry

    symbols[at] = top.merged_id;
    lengths[at] += lengths[right];
    lengths[right] = 0;
    next[at] = next[right];
    if (next[right] != -1) prev[size_t(next[right])] = top.pos;

    if (prev[at] >= 0) {
      if (const Merge* m = lookup(symbols[size_t(prev[at])], symbols[at])) {
        queue.push({m->rank, prev[at], m->merged_id});
      }
    }
    if (next[at] != -1) {
      if (const Merge* m = lookup(symbols[at], symbols[size_t(next[at])])) queue.push({m->rank, top.pos, m->merged_id});
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < size_t(n); ++i) {
    if (lengths[i] != 0) symbols[kept++] = symbols[i];
  }
  symbols.resize(kept);
}

}  // namespace dsmoe
