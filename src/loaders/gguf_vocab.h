// The tokenizer a GGUF file carries as metadata (tokenizer.ggml.*), as plain data, and its two translations:
//   GGUF vocabulary -> tokenizer.json + tokenizer_config.json, so that Tokenizer::from_json gives the ids that
//                      llama.cpp gives for that file;
//   HF tokenizer.json + tokenizer_config.json -> GGUF vocabulary, for `dsmoe convert`.
// Both follow llama.cpp v0.5.0 (src/llama-vocab.cpp reads the keys; convert_hf_to_gguf.py writes them).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dsmoe {

// tokenizer.ggml.token_type values.
enum class GgufTokenType : int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

// One field per tokenizer.ggml.* key (and tokenizer.chat_template); absent keys are empty or nullopt. Independent of
// any GGUF reader so the reader and the writer can both fill or consume it.
struct GgufVocabulary {
  std::string model;                 // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece style)
  std::string pre;                   // tokenizer.ggml.pre: the pre-tokenizer's name ("deepseek-v3", "gpt-2", ...)
  std::vector<std::string> tokens;   // by id
  std::vector<int32_t> token_types;  // GgufTokenType by id; empty = all normal
  std::vector<float> scores;         // by id; "llama" merges by them, "gpt2" ignores them; empty = all 0
  std::vector<std::string> merges;   // "gpt2": "left right", in rank order
  std::optional<int64_t> bos_id, eos_id, unknown_id, padding_id;
  std::optional<bool> add_bos, add_eos;
  std::string chat_template;
};

// tokenizer.json equivalent of `vocab` (`source` names the file in errors). Throws Error for an unknown model or
// pre-tokenizer name (naming the key, the value and the supported names) or inconsistent arrays.
nlohmann::json tokenizer_json_from_gguf(const GgufVocabulary& vocab, const std::string& source);
// tokenizer_config.json equivalent: bos/eos/unk/pad token strings, add_bos_token and add_eos_token as llama.cpp
// resolves them (its per-model defaults when the keys are absent), chat_template when present.
nlohmann::json tokenizer_config_from_gguf(const GgufVocabulary& vocab, const std::string& source);

// What `dsmoe convert` writes for an HF tokenizer. Token ids missing from the HF vocabulary below
// `padded_vocab_size` (config.json's vocab_size, when larger) become "[PAD{id}]" of type unused. Throws Error for
// a tokenizer llama.cpp would not tokenize the same way (unknown pre-tokenizer, normalizer, model type).
GgufVocabulary gguf_vocabulary_from_hf(const nlohmann::json& tokenizer_json, const nlohmann::json& tokenizer_config,
                                       const std::string& source,
                                       std::optional<int64_t> padded_vocab_size = std::nullopt);

// tokenizer.ggml.pre names this translation supports, and the tokenizer.ggml.model names.
std::vector<std::string> supported_gguf_pre_names();
std::vector<std::string> supported_gguf_models();

}  // namespace dsmoe
