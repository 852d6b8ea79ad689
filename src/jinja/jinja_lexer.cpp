#include "jinja/jinja_lexer.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "core/errors.h"
#include "jinja/jinja_unicode.h"

namespace dsmoe::jinja {

std::string describe(const SourcePos& pos) { return cat("line ", pos.line, ", column ", pos.column); }

namespace {

// jinja2 3.0+ treats only \n, \r\n and \r as line breaks and rejoins the lines with \n.
std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

bool is_space_at(const std::string& s, size_t pos, size_t* next) {
  size_t i = pos;
  const char32_t c = utf8_next(s, i);
  if (!is_python_space(c)) return false;
  *next = i;
  return true;
}

size_t skip_spaces(const std::string& s, size_t pos) {
  size_t next = pos;
  while (pos < s.size() && is_space_at(s, pos, &next)) pos = next;
  return pos;
}

// Python's text.rstrip(): whitespace is any Unicode white space, not only ASCII.
std::string rstrip_spaces(const std::string& text) { return str_strip(text, nullptr, StripSide::kRight); }

bool all_spaces(const std::string& s, size_t from) {
  if (from >= s.size()) return false;  // jinja2 tests `\s+`, which needs at least one character
  for (size_t i = from; i < s.size();) {
    size_t next = i;
    if (!is_space_at(s, i, &next)) return false;
    i = next;
  }
  return true;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(const std::string& source) : src_(normalize_newlines(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag_start(pos_);
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos_), pos_);
        break;
      }
      lex_tag(tag);
    }
    Token end;
    end.type = Token::Type::kEnd;
    end.pos = position(src_.size());
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  enum class TagKind { kVariable, kBlock, kComment };

  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // the last thing lexed ended with a newline (or nothing was lexed yet)

  SourcePos position(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const auto line = static_cast<size_t>(it - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void error(size_t offset, const std::string& message) const {
    fail("chat template ", describe(position(offset)), ": ", message);
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void push(Token::Type type, std::string text, size_t offset) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.pos = position(offset);
    tokens_.push_back(std::move(t));
  }

  void emit_text(std::string text, size_t offset) {
    if (!text.empty()) push(Token::Type::kText, std::move(text), offset);
  }

  // The text before a tag, with `-` stripping or lstrip_blocks applied as jinja2's OptionalLStrip does.
  void emit_text_before_tag(size_t tag, char sign, TagKind kind) {
    std::string text = src_.substr(pos_, tag - pos_);
    if (sign == '-') {
      text = rstrip_spaces(text);
    } else if (sign != '+' && kind != TagKind::kVariable) {
      const size_t last_newline = text.rfind('\n');
      const size_t line_start = last_newline == std::string::npos ? 0 : last_newline + 1;
      if ((line_start > 0 || line_starting_) && all_spaces(text, line_start)) text.resize(line_start);
    }
    emit_text(std::move(text), pos_);
  }

  // `{%(-|+|)\s*raw\s*(-%}\s*|%})`: the match's end, or npos when this block tag is not `raw`.
  size_t match_raw_begin(size_t after_sign) const {
    size_t i = skip_spaces(src_, after_sign);
    if (src_.compare(i, 3, "raw") != 0 || (i + 3 < src_.size() && is_name_char(src_[i + 3]))) return std::string::npos;
    i = skip_spaces(src_, i + 3);
    if (src_.compare(i, 3, "-%}") == 0) return skip_spaces(src_, i + 3);
    if (src_.compare(i, 2, "%}") == 0) return i + 2;
    return std::string::npos;
  }

  void lex_tag(size_t tag) {
    const char opener = src_[tag + 1];
    const TagKind kind = opener == '{' ? TagKind::kVariable : opener == '%' ? TagKind::kBlock : TagKind::kComment;
    const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
    const size_t after_sign = tag + 2 + (sign ? 1 : 0);
    emit_text_before_tag(tag, sign, kind);
    if (kind == TagKind::kComment) return lex_comment(tag, after_sign);
    if (kind == TagKind::kBlock) {
      const size_t raw_end = match_raw_begin(after_sign);
      if (raw_end != std::string::npos) return lex_raw(tag, raw_end);
    }
    push(kind == TagKind::kBlock ? Token::Type::kBlockBegin : Token::Type::kVariableBegin, "", tag);
    pos_ = after_sign;
    lex_tag_body(tag, kind);
  }

  // `(.*?)(\+#}|\-#}\s*|#}\n?)`
  void lex_comment(size_t tag, size_t after_sign) {
    const size_t close = src_.find("#}", after_sign);
    if (close == std::string::npos) error(tag, "missing end of comment tag");
    const char before = close > after_sign ? src_[close - 1] : 0;
    size_t end = close + 2;
    if (before == '-') {
      end = skip_spaces(src_, end);
    } else if (before != '+' && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    finish_at(end);
  }

  void lex_raw(size_t tag, size_t body_start) {
    // `(.*?)({%(-|+|)\s*endraw\s*(\+%}|\-%}\s*|%}\n?))`, the text before it stripped like any text.
    for (size_t close = src_.find("{%", body_start); close != std::string::npos; close = src_.find("{%", close + 1)) {
      const char sign =
          close + 2 < src_.size() && (src_[close + 2] == '-' || src_[close + 2] == '+') ? src_[close + 2] : 0;
      size_t i = skip_spaces(src_, close + 2 + (sign ? 1 : 0));
      if (src_.compare(i, 6, "endraw") != 0) continue;
      i = skip_spaces(src_, i + 6);
      size_t end = std::string::npos;
      if (src_.compare(i, 3, "+%}") == 0) {
        end = i + 3;
      } else if (src_.compare(i, 3, "-%}") == 0) {
        end = skip_spaces(src_, i + 3);
      } else if (src_.compare(i, 2, "%}") == 0) {
        end = i + 2 + (i + 2 < src_.size() && src_[i + 2] == '\n' ? 1 : 0);
      }
      if (end == std::string::npos) continue;
      pos_ = body_start;
      line_starting_ = body_start > 0 && src_[body_start - 1] == '\n';
      emit_text_before_tag(close, sign, TagKind::kBlock);
      finish_at(end);
      return;
    }
    error(tag, "missing end of raw directive ({% endraw %})");
  }

  void finish_at(size_t end) {
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    pos_ = end;
  }

  // Tokens until the closing `%}` or `}}` at bracket depth zero.
  void lex_tag_body(size_t tag, TagKind kind) {
    std::vector<char> brackets;  // the closing brackets still expected
    while (true) {
      pos_ = skip_spaces(src_, pos_);
      if (pos_ >= src_.size())
        error(tag, kind == TagKind::kBlock ? "tag `{%` is never closed by `%}`" : "tag `{{` is never closed by `}}`");
      if (brackets.empty() && close_tag(kind)) return;
      lex_token(brackets);
    }
  }

  bool close_tag(TagKind kind) {
    const size_t start = pos_;
    size_t end = std::string::npos;
    if (kind == TagKind::kBlock) {
      if (src_.compare(pos_, 3, "+%}") == 0) {
        end = pos_ + 3;
      } else if (src_.compare(pos_, 3, "-%}") == 0) {
        end = skip_spaces(src_, pos_ + 3);
      } else if (src_.compare(pos_, 2, "%}") == 0) {
        end = pos_ + 2 + (pos_ + 2 < src_.size() && src_[pos_ + 2] == '\n' ? 1 : 0);  // trim_blocks
      }
    } else {
      if (src_.compare(pos_, 3, "-}}") == 0) {
        end = skip_spaces(src_, pos_ + 3);
      } else if (src_.compare(pos_, 2, "}}") == 0) {
        end = pos_ + 2;
      }
    }
    if (end == std::string::npos) return false;
    push(kind == TagKind::kBlock ? Token::Type::kBlockEnd : Token::Type::kVariableEnd, "", start);
    finish_at(end);
    return true;
  }

  void lex_token(std::vector<char>& brackets) {
    const size_t start = pos_;
    const char c = src_[pos_];
    if (is_digit(c)) {
      if (lex_float(start) || lex_integer(start)) return;
      error(start, "malformed number");
    }
    if (is_name_start(c)) {
      size_t end = pos_;
      while (end < src_.size() && is_name_char(src_[end])) ++end;
      push(Token::Type::kName, src_.substr(pos_, end - pos_), start);
      pos_ = end;
      return;
    }
    if (c == '\'' || c == '"') return lex_string(start);
    static const std::array<const char*, 6> kTwoChar = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwoChar) {
      if (src_.compare(pos_, 2, op) == 0) {
        push(Token::Type::kOperator, op, start);
        pos_ += 2;
        return;
      }
    }
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos)
      error(start, cat("unexpected character '", src_.substr(start, 1), "'"));
    if (c == '(' || c == '[' || c == '{') brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) error(start, cat("unexpected '", c, "'"));
      if (brackets.back() != c) error(start, cat("unexpected '", c, "', expected '", brackets.back(), "'"));
      brackets.pop_back();
    }
    push(Token::Type::kOperator, std::string(1, c), start);
    ++pos_;
  }

  // Digits with single underscores between them: `(\d+_)*\d+`. Returns the end, or npos.
  size_t scan_digits(size_t i) const {
    if (i >= src_.size() || !is_digit(src_[i])) return std::string::npos;
    while (i < src_.size() && (is_digit(src_[i]) || (src_[i] == '_' && i + 1 < src_.size() && is_digit(src_[i + 1]))))
      ++i;
    return i;
  }

  bool lex_float(size_t start) {
    // jinja2's (?<!\.): after a dot digits are an integer, so `x.0.1` is x[0][1].
    if (start > 0 && src_[start - 1] == '.') return false;
    size_t i = scan_digits(start);
    bool fraction = false, exponent = false;
    if (i < src_.size() && src_[i] == '.' && scan_digits(i + 1) != std::string::npos) {
      i = scan_digits(i + 1);
      fraction = true;
    }
    if (i < src_.size() && (src_[i] == 'e' || src_[i] == 'E')) {
      size_t j = i + 1;
      if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
      if (scan_digits(j) != std::string::npos) {
        i = scan_digits(j);
        exponent = true;
      }
    }
    if (!fraction && !exponent) return false;
    std::string digits;
    for (size_t k = start; k < i; ++k)
      if (src_[k] != '_') digits += src_[k];
    Token t;
    t.type = Token::Type::kFloat;
    t.text = src_.substr(start, i - start);
    t.number = std::strtod(digits.c_str(), nullptr);
    t.pos = position(start);
    tokens_.push_back(std::move(t));
    pos_ = i;
    return true;
  }

  bool lex_integer(size_t start) {
    int base = 10;
    size_t i = start;
    if (src_[i] == '0' && i + 1 < src_.size() &&
        std::string_view("bBoOxX").find(src_[i + 1]) != std::string_view::npos) {
      const char b = static_cast<char>(src_[i + 1] | 0x20);
      base = b == 'b' ? 2 : b == 'o' ? 8 : 16;
      i += 2;
    }
    std::string digits;
    auto digit_ok = [base](char d) {
      if (base == 16) return std::isxdigit(static_cast<unsigned char>(d)) != 0;
      return d >= '0' && d < static_cast<char>('0' + base);
    };
    while (i < src_.size() && (digit_ok(src_[i]) || (src_[i] == '_' && i + 1 < src_.size() && digit_ok(src_[i + 1])))) {
      if (src_[i] != '_') digits += src_[i];
      ++i;
      if (base == 10 && digits == "0" && (i >= src_.size() || src_[i] != '0')) break;  // `0(_?0)*`: no leading zeros
    }
    if (digits.empty()) return false;
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(digits.c_str(), &end, base);
    if (errno == ERANGE) error(start, "integer literal does not fit in 64 bits");
    Token t;
    t.type = Token::Type::kInteger;
    t.text = src_.substr(start, i - start);
    t.integer = value;
    t.pos = position(start);
    tokens_.push_back(std::move(t));
    pos_ = i;
    return true;
  }

  void lex_string(size_t start) {
    const char quote = src_[start];
    std::string value;
    size_t i = start + 1;
    while (true) {
      if (i >= src_.size()) error(start, "unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) error(start, "unterminated string literal");
      i = decode_escape(i, value);
    }
    push(Token::Type::kString, std::move(value), start);
    pos_ = i + 1;
  }

  // \N{BULLET}: a character by its Unicode name (or alias), matched without regard to case as Python does.
  size_t named_escape(size_t i, std::string& out) const {
    const size_t close = src_.find('}', i);
    if (i + 2 >= src_.size() || src_[i + 2] != '{' || close == std::string::npos)
      error(i, "malformed \\N{...} escape in a string literal");
    std::string name = src_.substr(i + 3, close - i - 3);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (UCharNameChoice choice : {U_UNICODE_CHAR_NAME, U_CHAR_NAME_ALIAS}) {
      UErrorCode status = U_ZERO_ERROR;
      const UChar32 c = u_charFromName(choice, name.c_str(), &status);
      if (U_SUCCESS(status) && c >= 0) {
        utf8_append(out, static_cast<char32_t>(c));
        return close + 1;
      }
    }
    error(i, cat("unknown Unicode character name '", name, "' in a \\N{...} escape"));
  }

  // Python's "unicode-escape" codec, which jinja2 applies to string literals. Unknown escapes keep
  // their backslash, as Python does.
  size_t decode_escape(size_t i, std::string& out) const {
    const char e = src_[i + 1];
    auto hex_escape = [&](size_t width) {
      const std::string hex = src_.substr(i + 2, width);
      if (hex.size() != width ||
          !std::all_of(hex.begin(), hex.end(), [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
        error(i, cat("truncated \\", e, " escape in a string literal"));
      const auto code = static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16));
      if (code > 0x10FFFF) error(i, "escape beyond U+10FFFF in a string literal");
      utf8_append(out, code);
      return i + 2 + width;
    };
    switch (e) {
      case '\n':
        return i + 2;
      case '\\':
        out += '\\';
        return i + 2;
      case '\'':
        out += '\'';
        return i + 2;
      case '"':
        out += '"';
        return i + 2;
      case 'a':
        out += '\a';
        return i + 2;
      case 'b':
        out += '\b';
        return i + 2;
      case 'f':
        out += '\f';
        return i + 2;
      case 'n':
        out += '\n';
        return i + 2;
      case 'r':
        out += '\r';
        return i + 2;
      case 't':
        out += '\t';
        return i + 2;
      case 'v':
        out += '\v';
        return i + 2;
      case 'x':
        return hex_escape(2);
      case 'u':
        return hex_escape(4);
      case 'U':
        return hex_escape(8);
      case 'N':
        return named_escape(i, out);
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      size_t j = i + 1;
      char32_t code = 0;
      while (j < src_.size() && j < i + 4 && src_[j] >= '0' && src_[j] <= '7')
        code = code * 8 + static_cast<char32_t>(src_[j++] - '0');
      utf8_append(out, code);
      return j;
    }
    out += '\\';
    return i + 1;
  }
};

}  // namespace

std::vector<Token> lex_template(const std::string& source) { return Lexer(source).run(); }

}  // namespace dsmoe::jinja
