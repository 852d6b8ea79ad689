// What HF `tokenizers` calls a Pattern: a regex or a literal string that cuts text into matches and the gaps
// between them. Split pre-tokenizers and Replace normalizers/decoders are built on it.
//
// HF compiles its regexes with Oniguruma (the `onig` feature, on in the Python and node bindings). We use PCRE2
// with UTF+UCP and JIT, whose syntax and leftmost-first backtracking agree with Oniguruma's for the patterns in
// tokenizer.json files; the one class that differs, \s, is rewritten to Oniguruma's set (see pattern.cpp).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

// A span [begin, end) of bytes; is_match says whether the pattern matched it or it lies between matches.
struct PatternSpan {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
};

class Pattern {
 public:
  // An Oniguruma-syntax regex; `where` names the tokenizer.json part for error messages.
  static Pattern regex(const std::string& source, const std::string& where);
  static Pattern literal(std::string text);
  // {"Regex": "..."} or {"String": "..."}, the two forms of a tokenizer.json pattern.
  static Pattern from_json(const nlohmann::json& pattern, const std::string& where);

  // HF's Pattern::find_matches: consecutive spans covering all of `text` (one non-match span for empty text).
  std::vector<PatternSpan> find_spans(std::string_view text) const;

  // Calls on_match(begin, end) for every match, left to right, as Oniguruma's find_iter yields them.
  template <typename OnMatch>
  void for_each_match(std::string_view text, OnMatch&& on_match) const;

  struct Compiled;

 private:
  size_t find(std::string_view text, size_t from, size_t& match_end) const;  // npos when none

  std::shared_ptr<const Compiled> regex_;  // null for a literal
  std::string literal_;
};

// The pattern with \s and \S replaced by Oniguruma's whitespace set (the Unicode White_Space property). PCRE2's
// UCP \s also matches U+180E MONGOLIAN VOWEL SEPARATOR, which Oniguruma does not.
std::string onig_to_pcre2(std::string_view onig_pattern);

template <typename OnMatch>
void Pattern::for_each_match(std::string_view text, OnMatch&& on_match) const {
  size_t from = 0;
  bool have_previous = false;
  size_t previous_end = 0;
  while (from <= text.size()) {
    size_t end = 0;
    const size_t begin = find(text, from, end);
    if (begin == std::string_view::npos) return;
    if (begin == end && have_previous && previous_end == end) {
      // An empty match right where the last one ended would repeat forever: step one character on, as onig does.
      if (from >= text.size()) return;
      from += 1;
      while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
      continue;
    }
    from = end;
    have_previous = true;
    previous_end = end;
    on_match(begin, end);
  }
}

}  // namespace dsmoe
