// HF tokenizer.json + tokenizer_config.json -> GGUF vocabulary (what `dsmoe convert` writes): see gguf_vocab.h.
// The result must make llama.cpp tokenize as HF does, so anything GGUF cannot carry, or llama.cpp would split
// differently, is refused with the reason instead of being converted approximately.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/errors.h"
#include "loaders/gguf_pre_tokenizers.h"
#include "loaders/gguf_vocab.h"
#include "loaders/gguf_vocab_internal.h"
#include "dsmoe/chat_template.h"

namespace dsmoe {

using nlohmann::json;
using namespace gguf_vocab_internal;

namespace {

const std::string kSpaceMark = "\u2581";

std::string type_name(const json& part) {
  return part.is_object() && part.contains("type") && part["type"].is_string() ? part["type"].get<std::string>()
                                                                               : part.dump().substr(0, 60);
}

bool flag(const json& part, const char* key) {
  return part.is_object() && part.contains(key) && part[key].is_boolean() && part[key].get<bool>();
}

// The regexes, in order, that an HF byte-level pre-tokenizer splits with (each an isolating split), or nullopt when
// it does something else (another behavior, a prefix space, no ByteLevel step).
std::optional<std::vector<std::string>> isolating_regexes(const json& pre_tokenizer) {
  const std::vector<json> steps = type_name(pre_tokenizer) == "Sequence" && pre_tokenizer.contains("pretokenizers")
                                      ? pre_tokenizer["pretokenizers"].get<std::vector<json>>()
                                      : std::vector<json>{pre_tokenizer};
  std::vector<std::string> regexes;
  bool byte_level = false;
  for (const json& step : steps) {
    const std::string type = type_name(step);
    if (byte_level) return std::nullopt;  // anything after the byte mapping sees mapped text
    if (type == "Split") {
      if (!step.contains("pattern") || !step["pattern"].contains("Regex") || step.value("behavior", "") != "Isolated" ||
          flag(step, "invert")) {
        return std::nullopt;
      }
      regexes.push_back(step["pattern"]["Regex"].get<std::string>());
    } else if (type == "Digits") {  // HF's Digits isolates runs of Unicode numbers, or each one
      regexes.push_back(flag(step, "individual_digits") ? "\\p{N}" : "\\p{N}+");
    } else if (type == "ByteLevel") {
      if (flag(step, "add_prefix_space")) return std::nullopt;
      // HF's own regex for ByteLevel(use_regex), which is GPT-2's.
      if (step.value("use_regex", true)) {
        regexes.push_back("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
      }
      byte_level = true;
    } else {
      return std::nullopt;
    }
  }
  if (!byte_level) return std::nullopt;
  return regexes;
}

// The tokenizer.ggml.pre name whose regexes are the HF pre-tokenizer's. llama.cpp's converter instead encodes a fixed
// text with the tokenizer and looks the hash of the ids up in a table of known models, so it accepts only models
// it has seen; comparing the regexes accepts any tokenizer that splits the way a known name does, needs no
// tokenizer run, and says which part differs when none matches.
std::string recognise_pre_name(const json& spec, const std::string& source) {
  const json& pre_tokenizer = spec.contains("pre_tokenizer") ? spec["pre_tokenizer"] : json();
  const bool ignore_merges = flag(spec["model"], "ignore_merges");
  const auto regexes = isolating_regexes(pre_tokenizer);
  if (regexes) {
    for (const GgufPreTokenizer& entry : gguf_pre_tokenizers()) {
      if (entry.ignore_merges != ignore_merges) continue;
      bool same = *regexes == entry.regexes;
      for (const auto& spelling : entry.hf_spellings) same = same || *regexes == spelling;
      if (same) return entry.names.front();
    }
  }
  fail(source, ": the pre-tokenizer ", pre_tokenizer.dump().substr(0, 300),
       (ignore_merges ? " (with BPE ignore_merges)" : ""),
       " splits text in no way that llama.cpp knows by a tokenizer.ggml.pre name, so a GGUF file cannot carry it. ",
       "Known: a Sequence of Split (Regex, Isolated) and Digits steps ending in ByteLevel without prefix space, ",
       "with the regexes of one of: ", supported_list(supported_gguf_pre_names()));
}

// llama.cpp applies no normalizer to byte-level BPE. HF's NFC (Qwen) is dropped as llama.cpp's converter drops it:
// text already in NFC, which is nearly all text, tokenizes the same.
void check_byte_level_normalizer(const json& normalizer, const std::string& source) {
  if (normalizer.is_null() || type_name(normalizer) == "NFC") return;
  if (type_name(normalizer) == "Sequence" && normalizer.value("normalizers", json::array()).empty()) return;
  fail(source, ": normalizer ", normalizer.dump().substr(0, 200),
       " has no equivalent in llama.cpp's byte-level tokenizer (only none or NFC can be converted)");
}

// llama.cpp's SentencePiece-style tokenizer puts a space before the text after BOS and after each special token and
// turns spaces into U+2581: HF's Prepend + Replace normalizer, or Metaspace with prepend_scheme "always" and no
// split. Metaspace "first" prepends only at the very start, which llama.cpp cannot express.
void check_sentencepiece_spaces(const json& spec, const std::string& source) {
  const json normalizer = spec.value("normalizer", json());
  const json pre_tokenizer = spec.value("pre_tokenizer", json());
  const json prepend_replace = {{{"type", "Prepend"}, {"prepend", kSpaceMark}},
                                {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}}};
  if (type_name(normalizer) == "Sequence" && normalizer.value("normalizers", json()) == prepend_replace &&
      pre_tokenizer.is_null()) {
    return;
  }
  const bool no_normalizer =
      normalizer.is_null() || (type_name(normalizer) == "Sequence" && normalizer.value("normalizers", json()).empty());
  if (no_normalizer && type_name(pre_tokenizer) == "Metaspace" &&
      pre_tokenizer.value("replacement", "") == kSpaceMark && pre_tokenizer.value("prepend_scheme", "") == "always" &&
      !pre_tokenizer.value("split", true)) {
    return;
  }
  fail(source, ": a byte-fallback (SentencePiece-style) tokenizer converts to tokenizer.ggml.model 'llama' only with ",
       "a Prepend(U+2581) + Replace(' ' -> U+2581) normalizer or a Metaspace(prepend_scheme always, split false) ",
       "pre-tokenizer, which is how llama.cpp places spaces; found normalizer ", normalizer.dump().substr(0, 150),
       " and pre_tokenizer ", pre_tokenizer.dump().substr(0, 150));
}

std::optional<std::string> config_token(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  return std::nullopt;
}

struct HfTokens {
  std::map<int64_t, std::string> by_id;         // the model vocabulary, then added tokens over it
  std::map<int64_t, bool> added_special;        // added token id -> special
  std::unordered_map<std::string, int64_t> id;  // added tokens first, as HF resolves a token string
};

HfTokens collect_tokens(const json& spec, const std::string& source) {
  HfTokens tokens;
  for (const auto& [text, id] : spec["model"]["vocab"].items()) {
    tokens.by_id[id.get<int64_t>()] = text;
    tokens.id.emplace(text, id.get<int64_t>());
  }
  for (const json& added : spec.value("added_tokens", json::array())) {
    const std::string content = added.at("content").get<std::string>();
    for (const char* dropped : {"lstrip", "rstrip", "single_word"}) {
      if (flag(added, dropped)) {
        fail(source, ": added token '", content, "' sets ", dropped, ", which a GGUF file cannot carry");
      }
    }
    const int64_t id = added.at("id").get<int64_t>();
    tokens.by_id[id] = content;
    tokens.added_special[id] = flag(added, "special");
    tokens.id[content] = id;
  }
  return tokens;
}

bool is_byte_token(const std::string& text) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return text.size() == 6 && text.compare(0, 3, "<0x") == 0 && hex(text[3]) && hex(text[4]) && text[5] == '>';
}

// Merges as (left, right) whatever HF's spelling ("a b" or ["a", "b"]).
std::vector<std::pair<std::string, std::string>> hf_merges(const json& model, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> merges;
  for (const json& merge : model.value("merges", json::array())) {
    if (merge.is_array() && merge.size() == 2) {
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else if (merge.is_string() && merge.get<std::string>().find(' ') != std::string::npos) {
      const std::string text = merge.get<std::string>();
      const size_t cut = text.find(' ');
      merges.emplace_back(text.substr(0, cut), text.substr(cut + 1));
    } else {
      fail(source, ": model merge ", merge.dump(), " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return merges;
}

// Scores that make llama.cpp's highest-score-first merging follow HF's merge ranks: a token scores minus the rank
// of the first merge that makes it. Tokens no merge makes come after all merged ones, in id order.
std::vector<float> scores_from_merges(const GgufVocabulary& vocab, const json& model, const std::string& source) {
  std::unordered_map<std::string, size_t> id_of;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) id_of.emplace(vocab.tokens[id], id);
  const auto merges = hf_merges(model, source);
  std::vector<float> scores(vocab.tokens.size(), 0.0f);
  std::vector<bool> made(vocab.tokens.size(), false);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto it = id_of.find(merges[rank].first + merges[rank].second);
    if (it == id_of.end() || made[it->second]) continue;
    made[it->second] = true;
    scores[it->second] = -static_cast<float>(rank);
  }
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    if (!made[id] && type_of(vocab, id) == GgufTokenType::normal) {
      scores[id] = -static_cast<float>(merges.size() + id);
    }
  }
  return scores;
}

// Whether the post-processor's single template starts with BOS / ends with EOS (HF's ByteLevel adds nothing).
std::pair<bool, bool> template_adds(const json& processor, const std::optional<std::string>& bos,
                                    const std::optional<std::string>& eos) {
  bool add_bos = false, add_eos = false;
  const std::vector<json> steps = type_name(processor) == "Sequence" && processor.contains("processors")
                                      ? processor["processors"].get<std::vector<json>>()
                                      : std::vector<json>{processor};
  for (const json& step : steps) {
    if (type_name(step) != "TemplateProcessing" || !step.contains("single") || step["single"].empty()) continue;
    auto special = [](const json& piece) {
      return piece.contains("SpecialToken") ? piece["SpecialToken"].value("id", "") : std::string();
    };
    add_bos = add_bos || (bos && special(step["single"].front()) == *bos);
    add_eos = add_eos || (eos && special(step["single"].back()) == *eos);
  }
  return {add_bos, add_eos};
}

}  // namespace

GgufVocabulary gguf_vocabulary_from_hf(const json& spec, const json& config, const std::string& source,
                                       std::optional<int64_t> padded_vocab_size) {
  if (!spec.is_object() || !spec.contains("model") || !spec["model"].is_object()) {
    fail(source, ": tokenizer.json has no model");
  }
  const json& model = spec["model"];
  if (type_name(model) != "BPE") {
    fail(source, ": model type '", type_name(model), "' cannot be converted (supported: BPE)");
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(affix) && model[affix].is_string() && !model[affix].get<std::string>().empty()) {
      fail(source, ": BPE ", affix, " '", model[affix].get<std::string>(), "' has no GGUF equivalent");
    }
  }
  GgufVocabulary vocab;
  const bool sentencepiece = flag(model, "byte_fallback");
  vocab.model = sentencepiece ? "llama" : "gpt2";
  if (sentencepiece) {
    check_sentencepiece_spaces(spec, source);
  } else {
    check_byte_level_normalizer(spec.value("normalizer", json()), source);
    vocab.pre = recognise_pre_name(spec, source);
  }

  const HfTokens hf = collect_tokens(spec, source);
  const std::optional<std::string> unk = model.contains("unk_token") && model["unk_token"].is_string()
                                             ? model["unk_token"].get<std::string>()
                                             : std::optional<std::string>();
  const int64_t n_tokens = std::max(hf.by_id.empty() ? 0 : hf.by_id.rbegin()->first + 1, padded_vocab_size.value_or(0));
  for (int64_t id = 0; id < n_tokens; ++id) {
    const auto it = hf.by_id.find(id);
    GgufTokenType type = GgufTokenType::normal;
    std::string text = it == hf.by_id.end() ? cat("[PAD", id, "]") : it->second;
    if (it == hf.by_id.end()) {
      type = GgufTokenType::unused;  // llama.cpp's converter fills gaps so ids stay rows of the embedding
    } else if (sentencepiece && unk && text == *unk) {
      type = GgufTokenType::unknown;
    } else if (const auto added = hf.added_special.find(id); added != hf.added_special.end()) {
      type = added->second ? GgufTokenType::control : GgufTokenType::user_defined;
    } else if (sentencepiece && is_byte_token(text)) {
      type = GgufTokenType::byte;
    }
    vocab.tokens.push_back(std::move(text));
    vocab.token_types.push_back(static_cast<int32_t>(type));
  }

  if (sentencepiece) {
    vocab.scores = scores_from_merges(vocab, model, source);  // llama.cpp ranks SentencePiece merges by score
  } else {
    for (const auto& [left, right] : hf_merges(model, source)) {
      if (left.find(' ') != std::string::npos || right.find(' ') != std::string::npos) {
        fail(source, ": merge [\"", left, "\", \"", right, "\"] contains a space, which tokenizer.ggml.merges ",
             "(\"left right\") cannot carry");
      }
      vocab.merges.push_back(left + " " + right);
    }
  }

  auto id_of = [&](const std::optional<std::string>& token) -> std::optional<int64_t> {
    if (!token) return std::nullopt;
    const auto it = hf.id.find(*token);
    return it == hf.id.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  const std::optional<std::string> bos = config_token(config, "bos_token");
  const std::optional<std::string> eos = config_token(config, "eos_token");
  vocab.bos_id = id_of(bos);
  vocab.eos_id = id_of(eos);
  vocab.padding_id = id_of(config_token(config, "pad_token"));
  if (sentencepiece) vocab.unknown_id = id_of(unk);

  // Always written, so llama.cpp's per-name defaults (BOS for llama3 names and SentencePiece) do not apply:
  // tokenizer_config's add_bos_token/add_eos_token when given (as llama.cpp's converter reads them), else what the
  // post-processor adds.
  const auto [template_bos, template_eos] = template_adds(spec.value("post_processor", json()), bos, eos);
  vocab.add_bos = config.is_object() && config.contains("add_bos_token") && config["add_bos_token"].is_boolean()
                      ? config["add_bos_token"].get<bool>()
                      : template_bos;
  vocab.add_eos = config.is_object() && config.contains("add_eos_token") && config["add_eos_token"].is_boolean()
                      ? config["add_eos_token"].get<bool>()
                      : template_eos;
  if (*vocab.add_bos && !vocab.bos_id) fail(source, ": add_bos_token is set but bos_token names no token");
  if (*vocab.add_eos && !vocab.eos_id) fail(source, ": add_eos_token is set but eos_token names no token");

  try {
    vocab.chat_template = chat_template_source(config.is_object() ? config : json::object()).value_or("");
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  return vocab;
}

}  // namespace dsmoe
