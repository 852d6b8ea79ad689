#include "tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/errors.h"

namespace dsmoe {

namespace {

// Oniguruma's \s: U+0009..U+000D, U+0020, U+0085, and the Zs/Zl/Zp characters, i.e. Unicode White_Space.
constexpr std::string_view kOnigSpace =
    "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}";
// Its complement, for \S written inside a bracket class, where PCRE2 has no set subtraction.
constexpr std::string_view kOnigNonSpace =
    "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{84}\\x{86}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}"
    "\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{10ffff}";

// Per-thread JIT stack: the default 32 KiB overflows on long runs of whitespace under `\s+(?!\S)`.
struct JitScratch {
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_match_data* data = nullptr;  // room for the whole-match offsets only: we never read groups
  JitScratch() {
    stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(context, nullptr, stack);
    data = pcre2_match_data_create(1, nullptr);
  }
  ~JitScratch() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

}  // namespace

struct Pattern::Compiled {
  pcre2_code* code = nullptr;
  std::string source;
  ~Compiled() { pcre2_code_free(code); }
};

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  bool in_class = false;
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kOnigSpace) : cat("[", kOnigSpace, "]");
      } else if (e == 'S') {
        out += in_class ? std::string(kOnigNonSpace) : cat("[^", kOnigSpace, "]");
      } else {
        out += c;
        out += e;
      }
      i += 2;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      ++i;
      if (i < p.size() && p[i] == '^') out += p[i++];
      if (i < p.size() && p[i] == ']') out += p[i++];  // a ']' first in a class is a literal
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      const size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(p.substr(i, close + 2 - i));
        i = close + 2;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
    ++i;
  }
  return out;
}

Pattern Pattern::regex(const std::string& source, const std::string& where) {
  auto compiled = std::make_shared<Compiled>();
  compiled->source = source;
  const std::string translated = onig_to_pcre2(source);
  int error = 0;
  PCRE2_SIZE offset = 0;
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                 PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (compiled->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    fail(where, ": regex '", source, "' does not compile (", reinterpret_cast<const char*>(message), " at offset ",
         offset, ")");
  }
  pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // when JIT is unavailable the interpreter runs instead
  Pattern pattern;
  pattern.regex_ = std::move(compiled);
  return pattern;
}

Pattern Pattern::literal(std::string text) {
  Pattern pattern;
  pattern.literal_ = std::move(text);
  return pattern;
}

Pattern Pattern::from_json(const nlohmann::json& pattern, const std::string& where) {
  if (pattern.is_object() && pattern.size() == 1) {
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) return regex(pattern["Regex"], where);
    if (pattern.contains("String") && pattern["String"].is_string()) return literal(pattern["String"]);
  }
  fail(where, ": pattern must be {\"Regex\": ...} or {\"String\": ...}, found ", pattern.dump());
}

size_t Pattern::find(std::string_view text, size_t from, size_t& match_end) const {
  if (!regex_) {
    const size_t at = text.find(literal_, from);
    if (at != std::string_view::npos) match_end = at + literal_.size();
    return at;
  }
  thread_local JitScratch scratch;
  const int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from,
                             PCRE2_NO_UTF_CHECK, scratch.data, scratch.context);
  if (rc == PCRE2_ERROR_NOMATCH) return std::string_view::npos;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    fail("tokenizer regex '", regex_->source, "': matching failed (", reinterpret_cast<const char*>(message), ")");
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.data);
  match_end = ovector[1];
  return ovector[0];
}

std::vector<PatternSpan> Pattern::find_spans(std::string_view text) const {
  if (text.empty()) return {PatternSpan{0, 0, false}};
  std::vector<PatternSpan> spans;
  size_t previous = 0;
  for_each_match(text, [&](size_t begin, size_t end) {
    if (previous != begin) spans.push_back({previous, begin, false});
    spans.push_back({begin, end, true});
    previous = end;
  });
  if (previous != text.size()) spans.push_back({previous, text.size(), false});
  return spans;
}

}  // namespace dsmoe
