#include "tokenizer/pre_tokenizers.h"

#include <algorithm>
#include <utility>

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

// Replaces every segment that is not yet a token by the pieces `cut` appends for it; empty pieces are dropped.
template <typename Cut>
void split_each(Segments& segments, Cut&& cut) {
  Segments result;
  result.reserve(segments.size());
  for (auto& segment : segments) {
    if (segment.token_id >= 0) {
      result.push_back(std::move(segment));
      continue;
    }
    const size_t first = result.size();
    cut(segment, result);
    result.erase(std::remove_if(result.begin() + long(first), result.end(),
                                [](const Segment& s) { return s.token_id < 0 && s.text.empty(); }),
                 result.end());
  }
  segments = std::move(result);
}

// prefix + text (std::string::insert at 0 trips GCC 12's -Wrestrict false positive, PR 105651).
std::string prefixed(std::string_view prefix, const std::string& text) {
  std::string out;
  out.reserve(prefix.size() + text.size());
  out.append(prefix);
  out.append(text);
  return out;
}

void append_pieces(const Segment& segment, const std::vector<PatternSpan>& spans, SplitBehavior behavior,
                   Segments& out) {
  for (const auto& [begin, end] : kept_ranges(spans, behavior)) {
    out.push_back(Segment{segment.text.substr(begin, end - begin), -1, segment.at_origin && begin == 0});
  }
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
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](const Segment& segment, Segments& out) {
      std::vector<PatternSpan> spans = pattern_.find_spans(segment.text);
      if (invert_) {
        for (auto& s : spans) s.is_match = !s.is_match;
      }
      append_pieces(segment, spans, behavior_, out);
    });
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
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](Segment& segment, Segments& out) {
      if (add_prefix_space_ && (segment.text.empty() || segment.text[0] != ' '))
        segment.text = prefixed(" ", segment.text);
      if (use_regex_) {
        append_pieces(segment, regex_.find_spans(segment.text), SplitBehavior::kIsolated, out);
      } else {
        out.push_back(std::move(segment));
      }
    });
    for (auto& segment : segments) {
      if (segment.token_id >= 0) continue;
      std::string mapped;
      mapped.reserve(segment.text.size() * 2);
      byte_level::append_encoded(segment.text, mapped);
      segment.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_, use_regex_;
  Pattern regex_;
};

class Digits : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](const Segment& segment, Segments& out) {
      append_pieces(segment, char_spans(segment.text, utf8::is_numeric),
                    individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, out);
    });
  }

 private:
  bool individual_;
};

enum class PrependScheme { kFirst, kAlways, kNever };

// SentencePiece's view of spaces: ' ' becomes the replacement ('▁'), a word starts at each replacement.
class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    size_t pos = 0;
    replacement_char_ = utf8::next(replacement_, pos);
  }
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](Segment& segment, Segments& out) {
      std::string replaced;
      replaced.reserve(segment.text.size());
      for (const char c : segment.text) {
        if (c == ' ') {
          replaced += replacement_;
        } else {
          replaced += c;
        }
      }
      const bool starts_with_replacement = replaced.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts_with_replacement &&
          (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && segment.at_origin))) {
        replaced = prefixed(replacement_, replaced);
      }
      segment.text = std::move(replaced);
      if (!split_) {
        out.push_back(std::move(segment));
        return;
      }
      const auto spans = char_spans(segment.text, [&](char32_t c) { return c == replacement_char_; });
      append_pieces(segment, spans, SplitBehavior::kMergedWithNext, out);
    });
  }

 private:
  std::string replacement_;
  char32_t replacement_char_ = 0;
  PrependScheme scheme_;
  bool split_;
};

// HF Whitespace: the regex \w+|[^\w\s]+ (Rust regex classes), with everything between matches removed.
class Whitespace : public PreTokenizer {
 public:
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](const Segment& segment, Segments& out) {
      const std::string& text = segment.text;
      enum Kind { kSpace, kWord, kOther };
      const auto kind_of = [](char32_t c) {
        return utf8::is_word(c) ? kWord : utf8::is_whitespace(c) ? kSpace : kOther;
      };
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
        if (kind != kSpace)
          out.push_back(Segment{text.substr(begin, end - begin), -1, segment.at_origin && begin == 0});
        pos = end;
      }
    });
  }
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(Segments& segments) const override {
    split_each(segments, [&](const Segment& segment, Segments& out) {
      append_pieces(segment, char_spans(segment.text, utf8::is_whitespace), SplitBehavior::kRemoved, out);
    });
  }
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(Segments& segments) const override {
    for (const auto& step : steps_) step->pre_tokenize(segments);
  }

 private:
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
    return std::make_unique<Sequence>(std::move(steps));
  }
  fail("tokenizer.json: pre_tokenizer type '", type, "' is not supported (supported: Split, ByteLevel, Digits, ",
       "Metaspace, Whitespace, WhitespaceSplit, Sequence)");
}

}  // namespace dsmoe
