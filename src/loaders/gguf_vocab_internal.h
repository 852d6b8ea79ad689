// Helpers shared by the two directions of gguf_vocab (not part of its interface).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "loaders/gguf_vocab.h"

namespace dsmoe::gguf_vocab_internal {

std::string supported_list(const std::vector<std::string>& names);  // "a, b, c"
size_t utf8_length(unsigned char lead);                             // bytes of the character `lead` starts
GgufTokenType type_of(const GgufVocabulary& vocab, size_t id);      // normal when the file lists no types

}  // namespace dsmoe::gguf_vocab_internal
