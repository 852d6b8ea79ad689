#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "core/errors.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

using nlohmann::json;
using namespace json_fields;

namespace {

constexpr const char* kAddedTokensWhere = "tokenizer.json: added_tokens";

// The code point that ends text[0, end) (valid UTF-8, end > 0).
char32_t last_char(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return utf8::next(text, start);
}

// Where the whitespace that ends text[0, end) begins (the regex \s*$).
size_t trailing_space_start(std::string_view text, size_t end) {
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t next = start;
    if (!utf8::is_whitespace(utf8::next(text, next))) break;
    end = start;
  }
  return end;
}

// Where the whitespace that starts text[begin, ...) ends (the regex ^\s*).
size_t leading_space_end(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t next = begin;
    if (!utf8::is_whitespace(utf8::next(text, next))) break;
    begin = next;
  }
  return begin;
}

AddedToken parse_token(const json& spec, size_t index) {
  const std::string where = cat(kAddedTokensWhere, "[", index, "]");
  AddedToken token;
  token.content = string_field(spec, "content", where);
  token.special = bool_field(spec, "special", false, where);
  token.single_word = bool_field(spec, "single_word", false, where);
  token.lstrip = bool_field(spec, "lstrip", false, where);
  token.rstrip = bool_field(spec, "rstrip", false, where);
  token.normalized = bool_field(spec, "normalized", !token.special, where);
  return token;
}

bool same_flags(const AddedToken& a, const AddedToken& b) {
  return a.content == b.content && a.special == b.special && a.single_word == b.single_word && a.lstrip == b.lstrip &&
         a.rstrip == b.rstrip && a.normalized == b.normalized;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view content, int32_t token) {
  int32_t node = 0;
  for (const char ch : content) {
    const unsigned char b = static_cast<unsigned char>(ch);
    auto& children = nodes[size_t(node)].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, INT32_MIN));
    if (it == children.end() || it->first != b) {
      const int32_t child = int32_t(nodes.size());
      it = children.insert(it, {b, child});
      nodes.emplace_back();
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes[size_t(node)].token = token;
  first_byte[static_cast<unsigned char>(content[0])] = true;
}

std::pair<int32_t, size_t> AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos) const {
  std::pair<int32_t, size_t> best{-1, 0};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto& children = nodes[size_t(node)].children;
    const unsigned char b = static_cast<unsigned char>(text[i]);
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, INT32_MIN));
    if (it == children.end() || it->first != b) break;
    node = it->second;
    if (nodes[size_t(node)].token >= 0) best = {nodes[size_t(node)].token, i + 1 - pos};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(const json& added_tokens, const BpeModel& model, const Normalizer* normalizer) {
  if (added_tokens.is_null()) return;
  if (!added_tokens.is_array()) fail(kAddedTokensWhere, " must be an array");
  // HF TokenizerImpl deserialization: ids come from the vocab or are handed out from its size on; the "id" in the
  // file is not consulted.
  int32_t next_id = int32_t(model.vocab().size());
  for (size_t i = 0; i < added_tokens.size(); ++i) {
    AddedToken token = parse_token(added_tokens[i], i);
    if (token.content.empty()) continue;
    if (auto known = by_content_.find(token.content); known != by_content_.end()) {
      if (same_flags(tokens_[by_id_.at(known->second)], token)) continue;
    }
    if (auto existing = token_id(token.content)) {
      token.id = *existing;
    } else if (auto in_vocab = model.token_id(token.content)) {
      token.id = *in_vocab;
    } else {
      token.id = next_id++;
    }
    std::string normalized_content;
    if (token.normalized && normalizer != nullptr) {
      std::string text = token.content;
      normalizer->normalize(text);
      if (text != token.content) normalized_content = std::move(text);
    }
    by_content_[token.content] = token.id;
    if (token.special) special_contents_.insert(token.content);
    if (auto same_id = by_id_.find(token.id); same_id != by_id_.end()) {
      tokens_[same_id->second] = token;
      normalized_contents_[same_id->second] = normalized_content;
    } else {
      by_id_[token.id] = tokens_.size();
      tokens_.push_back(token);
      normalized_contents_.push_back(normalized_content);
    }
    id_space_ = std::max(id_space_, token.id + 1);
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    if (token.normalized) {
      const std::string& pattern = normalized_contents_[i].empty() ? token.content : normalized_contents_[i];
      if (!pattern.empty()) normalized_trie_.insert(pattern, int32_t(i));
    } else {
      raw_trie_.insert(token.content, int32_t(i));
    }
  }
}

const AddedToken* AddedVocabulary::find(int32_t id) const {
  auto found = by_id_.find(id);
  return found == by_id_.end() ? nullptr : &tokens_[found->second];
}

std::optional<int32_t> AddedVocabulary::token_id(std::string_view content) const {
  auto found = by_content_.find(content);
  if (found == by_content_.end()) return std::nullopt;
  return found->second;
}

const std::string& AddedVocabulary::decoded_text(const AddedToken& token) const {
  const std::string& normalized = normalized_contents_[by_id_.at(token.id)];
  return normalized.empty() ? token.content : normalized;
}

// HF AddedVocabulary::find_matches + split_with_indices over one segment.
void AddedVocabulary::split(Segment segment, const Trie& trie, Segments& out) const {
  const std::string& text = segment.text;
  auto emit_text = [&](size_t begin, size_t end) {
    if (begin < end) out.push_back(Segment{text.substr(begin, end - begin), -1, segment.at_origin && begin == 0});
  };
  if (trie.empty()) {
    if (!text.empty()) out.push_back(std::move(segment));
    return;
  }
  size_t start_offset = 0;
  for (size_t pos = 0; pos < text.size();) {
    if (!trie.first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [index, length] = trie.longest_at(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + length;
    pos = stop;  // matches never overlap, whether or not this one is kept
    const AddedToken& token = tokens_[size_t(index)];
    if (token.single_word) {
      const bool space_before = start == 0 || !utf8::is_word(last_char(text, start));
      size_t after = stop;
      const bool space_after = stop == text.size() || !utf8::is_word(utf8::next(text, after));
      if (!space_before || !space_after) continue;
    }
    if (token.lstrip) start = std::max(trailing_space_start(text, start), start_offset);
    if (token.rstrip) stop = leading_space_end(text, stop);
    emit_text(start_offset, start);
    out.push_back(Segment{text.substr(start, stop - start), token.id, segment.at_origin && start == 0});
    start_offset = stop;
  }
  emit_text(start_offset, text.size());
}

Segments AddedVocabulary::extract_and_normalize(const std::string& text, const Normalizer* normalizer) const {
  Segments raw;
  split(Segment{text, -1, true}, raw_trie_, raw);
  Segments result;
  result.reserve(raw.size());
  for (auto& segment : raw) {
    if (segment.token_id >= 0) {
      result.push_back(std::move(segment));
      continue;
    }
    if (normalizer != nullptr) normalizer->normalize(segment.text);
    split(std::move(segment), normalized_trie_, result);
  }
  return result;
}

}  // namespace dsmoe
