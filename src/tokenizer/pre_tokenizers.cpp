#include "tokenizer/pre_tokenizers.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace dsmoe {

namespace {

using nlohmann::json;
using namespace json_fields;

// GPT-2's word regex, which the ByteLevel pre-tokenizer applies when use_regex is true.
constexpr const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The [begin, end) ranges that survive a split with the given behavior (HF NormalizedString::split).
std::vector<std::pair<size_t, size_t>> kept_ranges(const std::vector<PatternSpan>& spans, SplitBehavior behavior) {
  std::vector<std::pair<size_t, size_t>> kept;
  kept.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : spans) kept.emplace_back(s.begin, s.end);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : spans) {
        if (!s.is_match) kept.emplace_back(s.begin, s.end);
      }
      break;
    case SplitBehavior::kContiguous:
      for (const auto& s : spans) {
        if (s.is_match == previous_match && !kept.empty()) {
          kept.back().second = s.end;
        } else {
          kept.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& s : spans) {
        if (s.is_match && !previous_match && !kept.empty()) {
          kept.back().second = s.end;
        } else {
          kept.emplace_back(s.begin, s.end);
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      // Walk right to left so that a match joins the span after it.
      for (auto s = spans.rbegin(); s != spans.rend(); ++s) {
        if (s->is_match && !previous_match && !kept.empty()) {
          kept.back().first = s->begin;
        } else {
          kept.emplace_back(s->begin, s->end);
        }
        previous_match = s->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  return kept;
}

// HF's Pattern for a `Fn(char) -> bool`: every matching character is a match of its own; runs of the others are
// the gaps between.
template <typename Predicate>
std::vector<PatternSpan> char_spans(std::string_view text, Predicate&& matches) {
  if (text.empty()) return {PatternSpan{0, 0, false}};
  std::vector<PatternSpan> spans;
  size_t gap_begin = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t begin = pos;
    if (matches(utf8::next(text, pos))) {
      if (gap_begin < begin) spans.push_back({gap_begin, begin, false});
      spans.push_back({begin, pos, true});
      gap_begin = pos;
    }
  }
  if (gap_begin < text.size()) spans.push_back({gap_begin, text.size(), false});
  return spans;
}

// Emits the non-empty ranges of `input`; a piece is at the origin when its parent is and it starts there.
void emit_ranges(PreToken input, const std::vector<std::pair<size_t, size_t>>& ranges, PreTokenSink emit) {
  for (const auto& [begin, end] : ranges) {
    if (end > begin) emit(PreToken{input.text.substr(begin, end - begin), input.at_origin && begin == 0});
  }
}

void emit_range(PreToken input, size_t begin, size_t end, PreTokenSink emit) {
  if (end > begin) emit(PreToken{input.text.substr(begin, end - begin), input.at_origin && begin == 0});
}

// prefix + text (std::string::insert at 0 trips GCC 12's -Wrestrict false positive, PR 105651).
std::string prefixed(std::string_view prefix, std::string_view text) {
  std::string out;
  out.reserve(prefix.size() + text.size());
  out.append(prefix);
  out.append(text);
  return out;
}

SplitBehavior parse_behavior(const json& spec, const std::string& where) {
  const std::string name = string_field(spec, "behavior", where);
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail(where, ": behavior '", name,
       "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

class Split : public PreTokenizer {
 public:
  Split(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    const std::string_view text = input.text;
    if (behavior_ == SplitBehavior::kIsolated || behavior_ == SplitBehavior::kRemoved) {
      // Streamed: every match and every gap is a piece; Removed drops the matches (the gaps, when inverted).
      const bool keep_gaps = behavior_ == SplitBehavior::kIsolated || !invert_;
      const bool keep_matches = behavior_ == SplitBehavior::kIsolated || invert_;
      size_t previous = 0;
      pattern_.for_each_match(text, [&](size_t begin, size_t end) {
        if (keep_gaps) emit_range(input, previous, begin, emit);
        if (keep_matches) emit_range(input, begin, end, emit);
        previous = end;
      });
      if (keep_gaps) emit_range(input, previous, text.size(), emit);
      return;
    }
    std::vector<PatternSpan> spans = pattern_.find_spans(text);
    if (invert_) {
      for (auto& s : spans) s.is_match = !s.is_match;
    }
    emit_ranges(input, kept_ranges(spans, behavior_), emit);
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// GPT-2 byte-level: optionally a leading space and the GPT-2 regex split, then every byte shown as its character.
class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), regex_(Pattern::regex(kGpt2Regex, "ByteLevel")) {}
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    std::string with_space;
    if (add_prefix_space_ && !input.text.empty() && input.text[0] != ' ') {
      with_space = prefixed(" ", input.text);
      input.text = with_space;
    }
    std::string mapped;
    auto emit_mapped = [&](size_t begin, size_t end) {
      if (end <= begin) return;
      mapped.clear();
      byte_level::append_encoded(input.text.substr(begin, end - begin), mapped);
      emit(PreToken{mapped, input.at_origin && begin == 0});
    };
    if (!use_regex_) {
      emit_mapped(0, input.text.size());
      return;
    }
    size_t previous = 0;
    regex_.for_each_match(input.text, [&](size_t begin, size_t end) {
      emit_mapped(previous, begin);
      emit_mapped(begin, end);
      previous = end;
    });
    emit_mapped(previous, input.text.size());
  }

 private:
  bool add_prefix_space_, use_regex_;
  Pattern regex_;
};

class Digits : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    emit_ranges(input,
                kept_ranges(char_spans(input.text, utf8::is_numeric),
                            individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous),
                emit);
  }

 private:
  bool individual_;
};

enum class PrependScheme { kFirst, kAlways, kNever };

// SentencePiece's view of spaces: ' ' becomes the replacement ('▁'), a word starts at each replacement.
class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    std::string replaced;
    replaced.reserve(input.text.size() + replacement_.size());
    const std::string_view r = replacement_;
    const bool starts_with_replacement =
        input.text.substr(0, r.size()) == r || (!input.text.empty() && input.text[0] == ' ');
    if (!starts_with_replacement &&
        (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && input.at_origin))) {
      replaced += replacement_;
    }
    for (const char c : input.text) {
      if (c == ' ') {
        replaced += replacement_;
      } else {
        replaced += c;
      }
    }
    const PreToken whole{replaced, input.at_origin};
    if (!split_) {
      emit(whole);
      return;
    }
    // HF splits on the replacement with MergedWithNext: every replacement starts a new piece.
    size_t begin = 0;
    for (size_t at = replaced.find(r); at != std::string::npos; at = replaced.find(r, at + r.size())) {
      emit_range(whole, begin, at, emit);
      begin = at;
    }
    emit_range(whole, begin, replaced.size(), emit);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// HF Whitespace: the regex \w+|[^\w\s]+ (Rust regex classes), with everything between matches removed.
class Whitespace : public PreTokenizer {
 public:
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    const std::string_view text = input.text;
    enum Kind { kSpace, kWord, kOther };
    const auto kind_of = [](char32_t c) { return utf8::is_word(c) ? kWord : utf8::is_whitespace(c) ? kSpace : kOther; };
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t begin = pos;
      const Kind kind = kind_of(utf8::next(text, pos));
      size_t end = pos;
      while (end < text.size()) {
        size_t next = end;
        if (kind_of(utf8::next(text, next)) != kind) break;
        end = next;
      }
      if (kind != kSpace) emit_range(input, begin, end, emit);
      pos = end;
    }
  }
};

// Runs of non-whitespace.
class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(PreToken input, PreTokenSink emit) const override {
    const std::string_view text = input.text;
    size_t word_begin = 0;
    for (size_t pos = 0; pos < text.size();) {
      const size_t begin = pos;
      if (utf8::is_whitespace(utf8::next(text, pos))) {
        emit_range(input, word_begin, begin, emit);
        word_begin = pos;
      }
    }
    emit_range(input, word_begin, text.size(), emit);
  }
};

// Each piece of one step goes through the remaining steps before the next piece is cut.
class PreTokenizerSequence : public PreTokenizer {
 public:
  explicit PreTokenizerSequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(PreToken input, PreTokenSink emit) const override { run(0, input, emit); }

 private:
  void run(size_t step, PreToken input, PreTokenSink emit) const {
    if (step == steps_.size()) {
      emit(input);
      return;
    }
    steps_[step]->pre_tokenize(input, [&](PreToken piece) { run(step + 1, piece, emit); });
  }
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

std::unique_ptr<PreTokenizer> make_metaspace(const json& spec, const std::string& where) {
  const std::string replacement = string_field(spec, "replacement", where);
  if (replacement.empty() || utf8::char_length(static_cast<unsigned char>(replacement[0])) != replacement.size()) {
    fail(where, ": replacement must be one character, found '", replacement, "'");
  }
  PrependScheme scheme = PrependScheme::kAlways;
  const bool has_scheme = spec.contains("prepend_scheme") && !spec["prepend_scheme"].is_null();
  if (has_scheme) {
    const std::string name = string_field(spec, "prepend_scheme", where);
    if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      fail(where, ": prepend_scheme '", name, "' is not one of first, always, never");
    }
  }
  // Older files say add_prefix_space instead; false there means "never".
  if (!bool_field(spec, "add_prefix_space", true, where)) {
    if (has_scheme && scheme != PrependScheme::kNever) {
      fail(where, ": add_prefix_space false contradicts prepend_scheme '", spec["prepend_scheme"].get<std::string>(),
           "'");
    }
    scheme = PrependScheme::kNever;
  }
  return std::make_unique<Metaspace>(replacement, scheme, bool_field(spec, "split", true, where));
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string type = type_of(spec, "tokenizer.json: pre_tokenizer");
  const std::string where = "tokenizer.json: pre_tokenizer " + type;
  if (type == "Split") {
    return std::make_unique<Split>(Pattern::from_json(required(spec, "pattern", where), where),
                                   parse_behavior(spec, where), bool_field(spec, "invert", false, where));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevel>(bool_field(spec, "add_prefix_space", true, where),
                                       bool_field(spec, "use_regex", true, where));
  }
  if (type == "Digits") return std::make_unique<Digits>(bool_field(spec, "individual_digits", false, where));
  if (type == "Metaspace") return make_metaspace(spec, where);
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const json& step : array_field(spec, "pretokenizers", where)) {
      auto pre_tokenizer = make_pre_tokenizer(step);
      if (pre_tokenizer) steps.push_back(std::move(pre_tokenizer));
    }
    return std::make_unique<PreTokenizerSequence>(std::move(steps));
  }
  fail("tokenizer.json: pre_tokenizer type '", type, "' is not supported (supported: Split, ByteLevel, Digits, ",
       "Metaspace, Whitespace, WhitespaceSplit, Sequence)");
}

}  // namespace dsmoe
