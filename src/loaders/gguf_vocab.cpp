// GGUF vocabulary -> tokenizer.json: see gguf_vocab.h. The HF -> GGUF direction is in gguf_vocab_from_hf.cpp.
#include "loaders/gguf_vocab.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/errors.h"
#include "loaders/gguf_pre_tokenizers.h"
#include "loaders/gguf_vocab_internal.h"

namespace dsmoe {

using nlohmann::json;

namespace gguf_vocab_internal {

std::string supported_list(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

GgufTokenType type_of(const GgufVocabulary& vocab, size_t id) {
  return vocab.token_types.empty() ? GgufTokenType::normal : static_cast<GgufTokenType>(vocab.token_types[id]);
}

// llama.cpp v0.5.0 overrides the file's type of some tokens by their text when it loads a vocabulary: texts it takes
// for end-of-turn, end-of-generation and fill-in-the-middle markers become control tokens, which it then splits out
// of the text like any special token, and four gpt-oss markers become user-defined. (Of several texts for the same
// FIM or EOT role it promotes only the first it meets in a hash map; real vocabularies have at most one.)
GgufTokenType llama_cpp_type_of(const GgufVocabulary& vocab, size_t id) {
  static const std::unordered_set<std::string> control_texts = {"<|eot_id|>",
                                                                "<|im_end|>",
                                                                "<|end|>",
                                                                "<end_of_turn>",
                                                                "<|endoftext|>",
                                                                "<|end_of_text|>",
                                                                "<EOT>",
                                                                "_<EOT>",
                                                                "[EOT]",
                                                                "<｜end▁of▁sentence｜>",
                                                                "<end_of_utterance>",
                                                                "<|eom_id|>",
                                                                "<|fim_prefix|>",
                                                                "<fim-prefix>",
                                                                "<fim_prefix>",
                                                                "<｜fim▁begin｜>",
                                                                "<PRE>",
                                                                "▁<PRE>",
                                                                "<|code_prefix|>",
                                                                "<|prefix|>",
                                                                "<|fim_suffix|>",
                                                                "<fim-suffix>",
                                                                "<fim_suffix>",
                                                                "<｜fim▁hole｜>",
                                                                "<SUF>",
                                                                "▁<SUF>",
                                                                "<|code_suffix|>",
                                                                "<|suffix|>",
                                                                "<|fim_middle|>",
                                                                "<fim-middle>",
                                                                "<fim_middle>",
                                                                "<｜fim▁end｜>",
                                                                "<MID>",
                                                                "▁<MID>",
                                                                "<|code_middle|>",
                                                                "<|middle|>",
                                                                "<|fim_pad|>",
                                                                "<fim-pad>",
                                                                "<fim_pad>",
                                                                "<PAD>",
                                                                "[PAD]",
                                                                "<|fim_repo|>",
                                                                "<|repo_name|>",
                                                                "<fim-repo>",
                                                                "<REPO>",
                                                                "<reponame>",
                                                                "<|file_sep|>",
                                                                "<|return|>",
                                                                "<|call|>",
                                                                "<|flush|>",
                                                                "<|calls|>",
                                                                "</s>",
                                                                "[EOS]",
                                                                "<eos>",
                                                                "<turn|>",
                                                                "<|tool_response>",
                                                                "[e~["};
  static const std::unordered_set<std::string> user_defined_texts = {"<|channel|>", "<|message|>", "<|start|>",
                                                                     "<|constrain|>"};
  const std::string& text = vocab.tokens[id];
  if (user_defined_texts.count(text) != 0) return GgufTokenType::user_defined;
  const GgufTokenType type = type_of(vocab, id);
  if (control_texts.count(text) != 0 && type != GgufTokenType::user_defined && type != GgufTokenType::unknown) {
    return GgufTokenType::control;
  }
  return type;
}

}  // namespace gguf_vocab_internal

using namespace gguf_vocab_internal;

namespace {

// llama.cpp's special-token ids when the file names none (llama-vocab.cpp sets these per model before reading
// tokenizer.ggml.*_token_id; an id past the vocabulary is dropped, an out-of-range key keeps the default).
struct SpecialIds {
  std::optional<int64_t> bos, eos, unknown, padding;
  bool add_bos = false, add_eos = false;
};

std::optional<int64_t> in_range_or(std::optional<int64_t> given, std::optional<int64_t> fallback, size_t n_tokens) {
  auto valid = [&](std::optional<int64_t> id) { return id && *id >= 0 && static_cast<size_t>(*id) < n_tokens; };
  if (valid(given)) return given;
  return valid(fallback) ? fallback : std::nullopt;
}

const GgufPreTokenizer& pre_tokenizer_for(const GgufVocabulary& vocab, const std::string& source) {
  // llama.cpp reads a missing or empty tokenizer.ggml.pre as "default" (with a warning).
  const std::string name = vocab.pre.empty() ? "default" : vocab.pre;
  if (const GgufPreTokenizer* entry = find_gguf_pre_tokenizer(name)) return *entry;
  fail(source, ": tokenizer.ggml.pre is '", vocab.pre,
       "', a pre-tokenizer dsmoe does not know (supported: ", supported_list(supported_gguf_pre_names()), ")");
}

void check_model_and_arrays(const GgufVocabulary& vocab, const std::string& source) {
  if (vocab.model != "gpt2" && vocab.model != "llama") {
    fail(source, ": tokenizer.ggml.model is '", vocab.model,
         "', a tokenizer dsmoe does not know (supported: ", supported_list(supported_gguf_models()), ")");
  }
  if (vocab.tokens.empty()) fail(source, ": tokenizer.ggml.tokens is empty");
  const size_t n = vocab.tokens.size();
  if (!vocab.token_types.empty() && vocab.token_types.size() != n) {
    fail(source, ": tokenizer.ggml.token_type has ", vocab.token_types.size(), " entries for ", n, " tokens");
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    fail(source, ": tokenizer.ggml.scores has ", vocab.scores.size(), " entries for ", n, " tokens");
  }
  for (size_t id = 0; id < vocab.token_types.size(); ++id) {
    if (vocab.token_types[id] < 1 || vocab.token_types[id] > 6) {
      fail(source, ": tokenizer.ggml.token_type of token ", id, " is ", vocab.token_types[id],
           " (expected 1 normal .. 6 byte)");
    }
  }
  if (vocab.model == "gpt2") pre_tokenizer_for(vocab, source);
}

SpecialIds special_ids(const GgufVocabulary& vocab, const std::string& source) {
  const size_t n = vocab.tokens.size();
  const bool spm = vocab.model == "llama";
  SpecialIds ids;
  ids.bos = in_range_or(vocab.bos_id, spm ? 1 : 11, n);
  ids.eos = in_range_or(vocab.eos_id, spm ? 2 : 11, n);
  ids.unknown = in_range_or(vocab.unknown_id, spm ? std::optional<int64_t>(0) : std::nullopt, n);
  ids.padding = in_range_or(vocab.padding_id, std::nullopt, n);
  const bool default_add_bos = spm || pre_tokenizer_for(vocab, source).adds_bos;
  ids.add_bos = vocab.add_bos.value_or(default_add_bos);
  ids.add_eos = vocab.add_eos.value_or(false);
  if (ids.add_bos && !ids.bos) fail(source, ": tokenizer.ggml.add_bos_token is set but there is no BOS token");
  if (ids.add_eos && !ids.eos) fail(source, ": tokenizer.ggml.add_eos_token is set but there is no EOS token");
  return ids;
}

// llama.cpp stands in "[EMPTY_<id>]" for an empty token string.
std::string token_text(const GgufVocabulary& vocab, size_t id) {
  return vocab.tokens[id].empty() ? cat("[EMPTY_", id, "]") : vocab.tokens[id];
}

// Every token string to its id; a repeated string maps to its last id, as llama.cpp's token_to_id does.
json vocab_object(const GgufVocabulary& vocab) {
  json object = json::object();
  for (size_t id = 0; id < vocab.tokens.size(); ++id) object[token_text(vocab, id)] = id;
  return object;
}

// llama.cpp splits control, user-defined and unknown tokens (by its reckoning, llama_cpp_type_of) out of the text
// before anything else (when asked to parse special tokens), matching the raw text: HF added tokens that are not
// normalized.
json added_tokens(const GgufVocabulary& vocab) {
  json added = json::array();
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const GgufTokenType type = llama_cpp_type_of(vocab, id);
    if (type != GgufTokenType::control && type != GgufTokenType::user_defined && type != GgufTokenType::unknown) {
      continue;
    }
    added.push_back({{"id", id},
                     {"content", token_text(vocab, id)},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", type != GgufTokenType::user_defined}});
  }
  return added;
}

json post_processor(const GgufVocabulary& vocab, const SpecialIds& ids) {
  if (!ids.add_bos && !ids.add_eos) return nullptr;
  json single = json::array();
  json special = json::object();
  auto add_special = [&](int64_t id) {
    const std::string text = token_text(vocab, static_cast<size_t>(id));
    single.push_back({{"SpecialToken", {{"id", text}, {"type_id", 0}}}});
    special[text] = {{"id", text}, {"ids", {id}}, {"tokens", {text}}};
  };
  if (ids.add_bos) add_special(*ids.bos);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (ids.add_eos) add_special(*ids.eos);
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", json::array()}, {"special_tokens", special}};
}

json bpe_model(json vocab_map, json merges) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", std::move(vocab_map)},
          {"merges", std::move(merges)}};
}

// tokenizer.ggml.merges entries are "left right"; llama.cpp cuts at the first space after the first byte, so a
// left part that is a lone space still works.
json byte_level_merges(const GgufVocabulary& vocab, const std::string& source) {
  json merges = json::array();
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& merge = vocab.merges[rank];
    const size_t cut = merge.size() > 1 ? merge.find(' ', 1) : std::string::npos;
    if (cut == std::string::npos) {
      fail(source, ": tokenizer.ggml.merges entry ", rank, " is '", merge, "', not 'left right'");
    }
    merges.push_back({merge.substr(0, cut), merge.substr(cut + 1)});
  }
  return merges;
}

json byte_level_tokenizer(const GgufVocabulary& vocab, const std::string& source) {
  const GgufPreTokenizer& pre = pre_tokenizer_for(vocab, source);
  json steps = json::array();
  for (const std::string& regex : pre.regexes) {
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}});
  }
  steps.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}});
  json model = bpe_model(vocab_object(vocab), byte_level_merges(vocab, source));
  model["ignore_merges"] = pre.ignore_merges;
  return {
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", steps}}},
      {"model", std::move(model)},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}};
}

// llama.cpp's SentencePiece-style tokenizer merges, among adjacent pieces whose concatenation is a token, the one
// whose token scores highest (the leftmost on ties) until none is left. That is BPE whose merges (left, right) are
// all the ways to cut each token in two known tokens, ranked by the token's score: HF's conversion of SentencePiece
// models builds its merges the same way (cuts of one token ordered by the ids of the two parts). Only normal tokens
// are merge results: control, unknown and user-defined tokens are split out before, byte tokens are fallback.
json merges_from_scores(const GgufVocabulary& vocab) {
  std::unordered_map<std::string, int64_t> id_of;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) id_of[token_text(vocab, id)] = static_cast<int64_t>(id);
  struct Merge {
    float score;
    int64_t result, left, right;
  };
  std::vector<Merge> found;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    if (llama_cpp_type_of(vocab, id) != GgufTokenType::normal) continue;
    const std::string text = token_text(vocab, id);
    for (size_t cut = utf8_length(static_cast<unsigned char>(text[0])); cut < text.size();
         cut += utf8_length(static_cast<unsigned char>(text[cut]))) {
      const auto left = id_of.find(text.substr(0, cut));
      const auto right = id_of.find(text.substr(cut));
      if (left == id_of.end() || right == id_of.end()) continue;
      const float score = vocab.scores.empty() ? 0.0f : vocab.scores[id];
      found.push_back({score, static_cast<int64_t>(id), left->second, right->second});
    }
  }
  std::sort(found.begin(), found.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.result != b.result) return a.result < b.result;
    return a.left != b.left ? a.left < b.left : a.right < b.right;
  });
  json merges = json::array();
  for (const Merge& merge : found) {
    merges.push_back(
        {token_text(vocab, static_cast<size_t>(merge.left)), token_text(vocab, static_cast<size_t>(merge.right))});
  }
  return merges;
}

// HF's Llama tokenizer.json: a space before every piece of text between special tokens (llama.cpp's
// add_space_prefix after BOS or a special token), spaces as U+2581, byte fallback, and the inverse on decode.
json sentencepiece_tokenizer(const GgufVocabulary& vocab, const SpecialIds& ids) {
  const std::string space_mark = "\u2581";
  json model = bpe_model(vocab_object(vocab), merges_from_scores(vocab));
  model["byte_fallback"] = true;
  model["fuse_unk"] = true;
  if (ids.unknown) model["unk_token"] = token_text(vocab, static_cast<size_t>(*ids.unknown));
  json normalizer = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Prepend"}, {"prepend", space_mark}},
                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space_mark}}}}};
  json decoder = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", space_mark}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  return {{"normalizer", std::move(normalizer)},
          {"pre_tokenizer", nullptr},
          {"model", std::move(model)},
          {"decoder", std::move(decoder)}};
}

}  // namespace

json tokenizer_json_from_gguf(const GgufVocabulary& vocab, const std::string& source) {
  check_model_and_arrays(vocab, source);
  const SpecialIds ids = special_ids(vocab, source);
  json out = vocab.model == "gpt2" ? byte_level_tokenizer(vocab, source) : sentencepiece_tokenizer(vocab, ids);
  out["version"] = "1.0";
  out["truncation"] = nullptr;
  out["padding"] = nullptr;
  out["added_tokens"] = added_tokens(vocab);
  out["post_processor"] = post_processor(vocab, ids);
  return out;
}

json tokenizer_config_from_gguf(const GgufVocabulary& vocab, const std::string& source) {
  check_model_and_arrays(vocab, source);
  const SpecialIds ids = special_ids(vocab, source);
  json config = json::object();
  auto name = [&](const char* key, std::optional<int64_t> id) {
    if (id) config[key] = token_text(vocab, static_cast<size_t>(*id));
  };
  name("bos_token", ids.bos);
  name("eos_token", ids.eos);
  name("unk_token", ids.unknown);
  name("pad_token", ids.padding);
  config["add_bos_token"] = ids.add_bos;
  config["add_eos_token"] = ids.add_eos;
  if (!vocab.chat_template.empty()) config["chat_template"] = vocab.chat_template;
  return config;
}

std::vector<std::string> supported_gguf_pre_names() {
  std::vector<std::string> names;
  for (const GgufPreTokenizer& entry : gguf_pre_tokenizers()) {
    names.insert(names.end(), entry.names.begin(), entry.names.end());
  }
  return names;
}

std::vector<std::string> supported_gguf_models() { return {"gpt2", "llama"}; }

}  // namespace dsmoe
