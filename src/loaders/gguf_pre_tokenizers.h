// llama.cpp's byte-level BPE pre-tokenizers, by the name a GGUF file gives in tokenizer.ggml.pre: the regexes
// each name splits text with (each an isolating split of every piece the previous regexes left, which is HF's
// Split with behavior "Isolated") and what else the name switches on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsmoe {

struct GgufPreTokenizer {
  std::vector<std::string> names;    // the first is the one gguf_vocabulary_from_hf writes
  std::vector<std::string> regexes;  // as llama.cpp runs them, in order
  // Other regex lists that split the same way, as HF tokenizer.json files spell them.
  std::vector<std::vector<std::string>> hf_spellings;
  bool ignore_merges;  // a word that is itself a token is taken whole before merging (HF BPE ignore_merges)
  bool adds_bos;       // llama.cpp's add_bos default for this name when tokenizer.ggml.add_bos_token is absent
};

const std::vector<GgufPreTokenizer>& gguf_pre_tokenizers();
const GgufPreTokenizer* find_gguf_pre_tokenizer(std::string_view name);  // null when llama.cpp's name is unknown

}  // namespace dsmoe
