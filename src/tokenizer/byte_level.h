// GPT-2's bytes_to_unicode: every byte is shown as a printable character so that a byte-level BPE vocabulary is
// plain text. Printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other
// 68 bytes (controls, space, U+00AD) take U+0100 onward in byte order, so ' ' is 'Ġ' (U+0120) and '\n' is 'Ċ'.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace dsmoe::byte_level {

// The UTF-8 of the character standing for each byte.
const std::array<std::string, 256>& byte_chars();

// Every byte of `text` replaced by its character (the ByteLevel pre-tokenizer's transform).
void append_encoded(std::string_view text, std::string& out);

// The byte a character stands for, if it is one of the 256.
std::optional<unsigned char> char_byte(char32_t c);

}  // namespace dsmoe::byte_level
