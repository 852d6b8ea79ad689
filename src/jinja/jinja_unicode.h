// Python's view of text for the chat-template renderer: a str is a sequence of code points, so len(),
// indexing, slicing, strip() and the case methods count and classify code points, not UTF-8 bytes.
// Templates are stored as UTF-8; these helpers give the code-point answers Python would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsmoe::jinja {

// Code points of a UTF-8 string; malformed bytes decode as U+FFFD, one per byte.
std::u32string utf8_decode(std::string_view text);
std::string utf8_encode(std::u32string_view code_points);
void utf8_append(std::string& out, char32_t code_point);
// The code point starting at byte `pos`; advances `pos` past it.
char32_t utf8_next(std::string_view text, size_t& pos);

// len(s) in Python.
size_t code_point_count(std::string_view text);

// str.isspace() for one code point: Unicode White_Space plus the ASCII separators \x1c-\x1f.
bool is_python_space(char32_t c);
// str.isprintable() for one code point: everything but the C*, Z* categories (space excepted).
bool is_python_printable(char32_t c);
bool is_cased_lower(char32_t c);
bool is_cased_upper(char32_t c);
bool is_cased(char32_t c);
bool is_alnum(char32_t c);

// Python's case methods, with full Unicode mappings: 'ß'.upper() == 'SS'.
std::string str_lower(std::string_view s);
std::string str_upper(std::string_view s);
std::string str_capitalize(std::string_view s);  // str.capitalize(): first title-cased, rest lower
std::string str_title(std::string_view s);       // str.title(): word = run of cased letters

// str.strip/lstrip/rstrip: `chars` empty-optional means whitespace.
enum class StripSide { kBoth, kLeft, kRight };
std::string str_strip(std::string_view s, const std::u32string* chars, StripSide side);

// str.splitlines(): breaks at \n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028, U+2029; no empty last line.
std::vector<std::string> str_splitlines(std::string_view s, bool keep_ends);

}  // namespace dsmoe::jinja
