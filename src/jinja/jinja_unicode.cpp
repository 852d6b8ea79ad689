#include "jinja/jinja_unicode.h"

#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include <algorithm>

namespace dsmoe::jinja {

char32_t utf8_next(std::string_view text, size_t& i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t extra = 0;
  char32_t c = lead;
  if ((lead & 0xE0) == 0xC0) {
    extra = 1, c = lead & 0x1Fu;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2, c = lead & 0x0Fu;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3, c = lead & 0x07u;
  }
  bool ok = lead < 0x80 || extra > 0;
  for (size_t k = 1; ok && k <= extra; ++k) {
    const auto next = i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
    ok = (next & 0xC0) == 0x80;
    c = (c << 6) | (next & 0x3Fu);
  }
  i += ok ? extra + 1 : 1;
  return ok ? c : U'\uFFFD';
}

std::u32string utf8_decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) out.push_back(utf8_next(text, i));
  return out;
}

void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string utf8_encode(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t c : code_points) utf8_append(out, c);
  return out;
}

size_t code_point_count(std::string_view text) {
  // Continuation bytes (10xxxxxx) do not start a code point.
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char b) { return (static_cast<unsigned char>(b) & 0xC0) != 0x80; }));
}

bool is_python_space(char32_t c) {
  switch (c) {
    case U'\t':
    case U'\n':
    case U'\v':
    case U'\f':
    case U'\r':
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case U' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_python_printable(char32_t c) {
  if (c == U' ') return true;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

bool is_cased_lower(char32_t c) { return u_islower(static_cast<UChar32>(c)) != 0; }
bool is_cased_upper(char32_t c) { return u_isupper(static_cast<UChar32>(c)) != 0; }
bool is_cased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED) != 0; }
bool is_alnum(char32_t c) { return u_isalnum(static_cast<UChar32>(c)) != 0; }

namespace {

std::u16string to_utf16(std::u32string_view code_points) {
  std::u16string out;
  for (char32_t c : code_points) {
    if (c < 0x10000) {
      out.push_back(static_cast<char16_t>(c));
    } else {
      out.push_back(static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
    }
  }
  return out;
}

std::u32string from_utf16(std::u16string_view units) {
  std::u32string out;
  for (size_t i = 0; i < units.size(); ++i) {
    const char16_t u = units[i];
    if (u >= 0xD800 && u < 0xDC00 && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] < 0xE000) {
      out.push_back(0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else {
      out.push_back(u);
    }
  }
  return out;
}

enum class Case { kLower, kUpper, kTitle };

// Full Unicode case mappings in the root locale, as Python's str methods apply them ('ß'.upper() is 'SS',
// a final 'Σ' lowers to 'ς'). kTitle title-cases the start of each word.
std::u32string full_case(std::u32string_view text, Case target) {
  const std::u16string source = to_utf16(text);
  std::u16string mapped(source.size() * 3 + 4, u'\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    const auto capacity = static_cast<int32_t>(mapped.size());
    const auto length = static_cast<int32_t>(source.size());
    int32_t n = 0;
    if (target == Case::kLower) {
      n = u_strToLower(reinterpret_cast<UChar*>(mapped.data()), capacity, reinterpret_cast<const UChar*>(source.data()),
                       length, "", &status);
    } else if (target == Case::kUpper) {
      n = u_strToUpper(reinterpret_cast<UChar*>(mapped.data()), capacity, reinterpret_cast<const UChar*>(source.data()),
                       length, "", &status);
    } else {
      n = u_strToTitle(reinterpret_cast<UChar*>(mapped.data()), capacity, reinterpret_cast<const UChar*>(source.data()),
                       length, nullptr, "", &status);
    }
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      mapped.assign(static_cast<size_t>(n) + 1, u'\0');
      continue;
    }
    if (U_FAILURE(status)) return std::u32string(text);
    mapped.resize(static_cast<size_t>(n));
    return from_utf16(mapped);
  }
  return std::u32string(text);
}

std::u32string title_one(char32_t c) { return full_case(std::u32string(1, c), Case::kTitle); }

}  // namespace

std::string str_lower(std::string_view s) { return utf8_encode(full_case(utf8_decode(s), Case::kLower)); }
std::string str_upper(std::string_view s) { return utf8_encode(full_case(utf8_decode(s), Case::kUpper)); }

std::string str_capitalize(std::string_view s) {
  const std::u32string text = utf8_decode(s);
  if (text.empty()) return "";
  return utf8_encode(title_one(text[0]) + full_case(std::u32string_view(text).substr(1), Case::kLower));
}

std::string str_title(std::string_view s) {
  // CPython: a character is title-cased when the one before it is not cased, lower-cased otherwise.
  bool previous_cased = false;
  std::u32string out;
  for (char32_t c : utf8_decode(s)) {
    out += previous_cased ? full_case(std::u32string(1, c), Case::kLower) : title_one(c);
    previous_cased = is_cased(c);
  }
  return utf8_encode(out);
}

std::string str_strip(std::string_view s, const std::u32string* chars, StripSide side) {
  const std::u32string cps = utf8_decode(s);
  auto strippable = [chars](char32_t c) {
    return chars == nullptr ? is_python_space(c) : chars->find(c) != std::u32string::npos;
  };
  size_t begin = 0, end = cps.size();
  if (side != StripSide::kRight)
    while (begin < end && strippable(cps[begin])) ++begin;
  if (side != StripSide::kLeft)
    while (end > begin && strippable(cps[end - 1])) --end;
  return utf8_encode(std::u32string_view(cps).substr(begin, end - begin));
}

namespace {

bool is_line_break(char32_t c) {
  return c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f' || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

}  // namespace

std::vector<std::string> str_splitlines(std::string_view s, bool keep_ends) {
  const std::u32string text = utf8_decode(s);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_line_break(text[i])) continue;
    size_t end = i + 1;
    if (text[i] == U'\r' && end < text.size() && text[end] == U'\n') ++end;
    lines.push_back(utf8_encode(std::u32string_view(text).substr(start, (keep_ends ? end : i) - start)));
    start = end;
    i = end - 1;
  }
  if (start < text.size()) lines.push_back(utf8_encode(std::u32string_view(text).substr(start)));
  return lines;
}

}  // namespace dsmoe::jinja
