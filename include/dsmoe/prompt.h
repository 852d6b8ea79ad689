// What a generation starts from and where it ends, decided as transformers decides it: the ids of a raw prompt
// (BOS in front when tokenizer_config.json says add_bos_token) and the tokens that end a reply.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace dsmoe {

class Model;
class Tokenizer;

// A raw prompt as transformers tokenizes it: the post-processor's special tokens, and BOS in front when
// tokenizer_config.json says add_bos_token (transformers' Llama-style tokenizers add it even when the
// tokenizer.json post-processor does not, as DeepSeek's does not).
std::vector<int32_t> prompt_tokens(const Tokenizer& tokenizer, std::string_view text);

// The ids that end a reply: the tokenizer's eos, config.json's eos_token_id and generation_config.json's
// eos_token_id (a number or a list, as HF's generate() reads it), each once, in that order.
std::vector<int32_t> end_tokens(const Model& model);

}  // namespace dsmoe
