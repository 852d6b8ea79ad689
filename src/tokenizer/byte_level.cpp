#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace dsmoe::byte_level {

namespace {

bool stands_for_itself(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Tables {
  std::array<std::string, 256> chars;
  std::array<int, 0x200> bytes;  // code point -> byte, -1 when the code point stands for none
  // The same characters packed for the hot loop: every one is 1 or 2 bytes of UTF-8 (all are below U+0200).
  std::array<std::array<char, 2>, 256> packed;
  std::array<unsigned char, 256> packed_length;
  Tables() {
    bytes.fill(-1);
    char32_t shifted = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      const char32_t c = stands_for_itself(b) ? char32_t(b) : shifted++;
      utf8::append(c, chars[b]);
      bytes[c] = int(b);
      packed_length[b] = static_cast<unsigned char>(chars[b].size());
      packed[b] = {chars[b][0], chars[b].size() > 1 ? chars[b][1] : '\0'};
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_chars() { return tables().chars; }

void append_encoded(std::string_view text, std::string& out) {
  const Tables& t = tables();
  const size_t start = out.size();
  out.resize(start + 2 * text.size());
  char* cursor = out.data() + start;
  for (const char ch : text) {
    const unsigned char b = static_cast<unsigned char>(ch);
    cursor[0] = t.packed[b][0];
    cursor[1] = t.packed[b][1];
    cursor += t.packed_length[b];
  }
  out.resize(size_t(cursor - out.data()));
}

std::optional<unsigned char> char_byte(char32_t c) {
  if (c >= 0x200) return std::nullopt;
  const int b = tables().bytes[c];
  if (b < 0) return std::nullopt;
  return static_cast<unsigned char>(b);
}

}  // namespace dsmoe::byte_level
