#include "tokenizer/utf8.h"

#include <unicode/uchar.h>
#include <unicode/ustring.h>

namespace dsmoe::utf8 {

char32_t next(std::string_view text, size_t& pos) {
  const auto byte = [&](size_t i) { return char32_t(static_cast<unsigned char>(text[i])); };
  const char32_t lead = byte(pos);
  if (lead < 0x80) {
    pos += 1;
    return lead;
  }
  if (lead < 0xE0) {
    const char32_t c = ((lead & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
    pos += 2;
    return c;
  }
  if (lead < 0xF0) {
    const char32_t c = ((lead & 0x0F) << 12) | ((byte(pos + 1) & 0x3F) << 6) | (byte(pos + 2) & 0x3F);
    pos += 3;
    return c;
  }
  const char32_t c =
      ((lead & 0x07) << 18) | ((byte(pos + 1) & 0x3F) << 12) | ((byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
  pos += 4;
  return c;
}

void append(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | (c >> 18));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

namespace {

// Length of the well-formed character at bytes[pos], or of the maximal ill-formed prefix there (negated, at least 1)
// following Unicode's "substitution of maximal subparts" (Table 3-7 of the standard).
long well_formed_length(std::string_view bytes, size_t pos) {
  const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = at(pos);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_lo = 0x80, second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;
    if (lead == 0xED) second_hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;
    if (lead == 0xF4) second_hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return -1;
  }
  for (size_t k = 1; k < length; ++k) {
    if (pos + k >= bytes.size()) return -long(k);
    const unsigned char b = at(pos + k);
    const unsigned char lo = k == 1 ? second_lo : 0x80, hi = k == 1 ? second_hi : 0xBF;
    if (b < lo || b > hi) return -long(k);
  }
  return long(length);
}

}  // namespace

std::string to_valid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const long n = well_formed_length(bytes, pos);
    if (n > 0) {
      out.append(bytes.substr(pos, size_t(n)));
      pos += size_t(n);
    } else {
      out.append(kReplacement);
      pos += size_t(-n);
    }
  }
  return out;
}

bool is_valid(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const long n = well_formed_length(bytes, pos);
    if (n < 0) return false;
    pos += size_t(n);
  }
  return true;
}

size_t incomplete_tail(std::string_view text) {
  // A character is at most 4 bytes, so only the last 3 can begin an unfinished one.
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    const unsigned char b = static_cast<unsigned char>(text[text.size() - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    return b >= 0xC0 && char_length(b) > back ? back : 0;
  }
  return 0;
}

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return u_hasBinaryProperty(UChar32(c), UCHAR_WHITE_SPACE);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const int8_t type = u_charType(UChar32(c));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool is_word(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const UChar32 u = UChar32(c);
  const int32_t mask = U_MASK(u_charType(u));
  return u_hasBinaryProperty(u, UCHAR_ALPHABETIC) || u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL) ||
         (mask & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

void append_lowercase(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  UChar source[2];
  int32_t source_length = 0;
  U16_APPEND_UNSAFE(source, source_length, UChar32(c));
  UChar lowered[8];
  UErrorCode status = U_ZERO_ERROR;
  // One code point alone has no casing context, so the root locale gives the unconditional full mapping.
  const int32_t n = u_strToLower(lowered, 8, source, source_length, "", &status);
  if (U_FAILURE(status)) {
    append(c, out);
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 l;
    U16_NEXT_UNSAFE(lowered, i, l);
    append(char32_t(l), out);
  }
}

}  // namespace dsmoe::utf8
