// UTF-8 and the few Unicode character classes that HF `tokenizers` consults directly (outside its regexes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsmoe::utf8 {

// Length of the character whose lead byte is `lead` (1 for continuation or invalid bytes, so that loops advance).
inline size_t char_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// The code point starting at text[pos] of valid UTF-8; advances pos past it.
char32_t next(std::string_view text, size_t& pos);

void append(char32_t c, std::string& out);

// Valid UTF-8 where every maximal ill-formed subsequence became U+FFFD: what Rust's from_utf8_lossy, Python's
// decode(errors="replace") and the WHATWG TextDecoder give, so bytes that a JS or Python caller of HF would have
// seen as text come out identical.
std::string to_valid(std::string_view bytes);
bool is_valid(std::string_view bytes);

// Bytes at the end of `text` that start a character but do not finish it (0 when text ends on a boundary).
size_t incomplete_tail(std::string_view text);

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Rust's char::is_whitespace: the Unicode White_Space property.
bool is_whitespace(char32_t c);
// Rust's char::is_numeric: general categories Nd, Nl, No.
bool is_numeric(char32_t c);
// The Rust regex crate's Unicode \w: Alphabetic, marks, Nd, Pc, Join_Control.
bool is_word(char32_t c);

// Rust's char::to_lowercase: the full (SpecialCasing) mapping, without context such as final sigma.
void append_lowercase(char32_t c, std::string& out);

}  // namespace dsmoe::utf8
