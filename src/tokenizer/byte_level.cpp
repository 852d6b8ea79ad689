#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace dsmoe::byte_level {

namespace {

bool stands_for_itself(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct Tables {
  std::array<std::string, 256> chars;
  std::array<int, 0x200> bytes;  // code point -> byte, -1 when the code point stands for none
  Tables() {
    bytes.fill(-1);
    char32_t shifted = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      const char32_t c = stands_for_itself(b) ? char32_t(b) : shifted++;
      utf8::append(c, chars[b]);
      bytes[c] = int(b);
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
  const auto& chars = tables().chars;
  for (const char b : text) out += chars[static_cast<unsigned char>(b)];
}

std::optional<unsigned char> char_byte(char32_t c) {
  if (c >= 0x200) return std::nullopt;
  const int b = tables().bytes[c];
  if (b < 0) return std::nullopt;
  return static_cast<unsigned char>(b);
}

}  // namespace dsmoe::byte_level
