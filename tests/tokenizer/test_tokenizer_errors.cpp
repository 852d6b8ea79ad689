// Malformed or unsupported tokenizer.json parts, and bad ids: each must be a dsmoe::Error naming the part.
#include <gtest/gtest.h>

#include <string>

#include "support/bad_input.h"
#include "test_tokenizer_fixtures.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;
using bad_input::TempDir;
using bad_input::write_file;
using nlohmann::json;
using tokenizer_fixtures::byte_level_tokenizer;
using tokenizer_fixtures::sentencepiece_tokenizer;

void expect_load_error(const json& spec, std::initializer_list<std::string> parts) {
  expect_error_containing([&] { Tokenizer::from_json(spec); }, parts);
}

TEST(TokenizerErrors, UnknownModelType) {
  json spec = byte_level_tokenizer({});
  spec["model"]["type"] = "Unigram";
  expect_load_error(spec, {"model type 'Unigram' is not supported"});
  spec.erase("model");
  expect_load_error(spec, {"'model' is missing"});
}

TEST(TokenizerErrors, BadMerges) {
  json spec = byte_level_tokenizer({{"a", "b"}});
  spec["model"]["merges"] = json::array({"a b c"});
  expect_load_error(spec, {"model BPE", "merge 0", "'a b c'"});
  spec["model"]["merges"] = json::array({"a q"});  // 'q' is a byte token; "aq" is not in the vocab
  expect_load_error(spec, {"merge 0", "'aq'", "not in the vocab"});
  spec["model"]["merges"] = json::array({json::array({"a", "b", "c"})});
  expect_load_error(spec, {"merge 0 must be"});
  spec["model"]["merges"] = json::array({"zz b"});
  expect_load_error(spec, {"merge 0", "'zz'", "not in the vocab"});
  spec["model"]["merges"] = "a b";
  expect_load_error(spec, {"'merges' must be an array"});
  spec["model"].erase("merges");
  expect_load_error(spec, {"'merges' is missing"});
}

TEST(TokenizerErrors, BadVocab) {
  json spec = byte_level_tokenizer({});
  spec["model"]["vocab"]["x"] = -3;
  expect_load_error(spec, {"vocab id of 'x'", "-3"});
  spec["model"]["vocab"] = json::array();
  expect_load_error(spec, {"'vocab' must be an object"});
}

// Issue 14: two tokens sharing an id made decoding depend on hash order; an id near 2^31 asked for a 64 GiB table.
TEST(TokenizerErrors, DuplicateAndAbsurdVocabIds) {
  json spec = byte_level_tokenizer({});
  const int64_t taken = spec["model"]["vocab"].begin()->get<int64_t>();
  spec["model"]["vocab"]["twin"] = taken;
  expect_load_error(spec, {"model BPE", "vocab id " + std::to_string(taken) + " is given to both", "'twin'"});
  spec = byte_level_tokenizer({});
  spec["model"]["vocab"]["far"] = 2147483646;
  expect_load_error(spec, {"vocab id 2147483646 is not below the 16777216 ids supported"});
}

TEST(TokenizerErrors, UnsupportedParts) {
  json spec = byte_level_tokenizer({});
  spec["pre_tokenizer"] = {{"type", "Foo"}};
  expect_load_error(spec, {"pre_tokenizer type 'Foo' is not supported"});
  spec = byte_level_tokenizer({});
  spec["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({{{"type", "BertPreTokenizer"}}})}};
  expect_load_error(spec, {"pre_tokenizer type 'BertPreTokenizer' is not supported"});
  spec = byte_level_tokenizer({});
  spec["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  expect_load_error(spec, {"normalizer type 'Precompiled' is not supported"});
  spec = byte_level_tokenizer({});
  spec["decoder"] = {{"type", "WordPiece"}};
  expect_load_error(spec, {"decoder type 'WordPiece' is not supported"});
  spec = byte_level_tokenizer({});
  spec["post_processor"] = {{"type", "Magic"}};
  expect_load_error(spec, {"post_processor type 'Magic' is not supported"});
  spec = byte_level_tokenizer({});
  spec["model"]["dropout"] = 0.1;
  expect_load_error(spec, {"dropout", "not supported"});
}

TEST(TokenizerErrors, MalformedParts) {
  json spec = byte_level_tokenizer({});
  spec["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_load_error(spec, {"pre_tokenizer Split", "regex '(unclosed' does not compile"});
  spec["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  expect_load_error(spec, {"pre_tokenizer Split", "behavior 'Sideways'"});
  spec["pre_tokenizer"] = {{"type", "Split"}, {"pattern", "a"}, {"behavior", "Isolated"}};
  expect_load_error(spec, {"pre_tokenizer Split", "pattern must be"});
  spec["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "__"}};
  expect_load_error(spec, {"pre_tokenizer Metaspace", "one character"});
  spec["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}, {"prepend_scheme", "sometimes"}};
  expect_load_error(spec, {"prepend_scheme 'sometimes'"});
  spec = byte_level_tokenizer({});
  spec["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}};
  expect_load_error(spec, {"normalizer Replace", "'content' is missing"});
  spec = byte_level_tokenizer({});
  spec["added_tokens"] = json::array({{{"id", 300}, {"special", true}}});
  expect_load_error(spec, {"added_tokens[0]", "'content' is missing"});
  spec = sentencepiece_tokenizer({}, {});
  spec["post_processor"]["single"][0]["SpecialToken"]["id"] = "<bos>";
  expect_load_error(spec, {"TemplateProcessing", "'<bos>' is not in special_tokens"});
  spec = sentencepiece_tokenizer({}, {});
  spec["post_processor"]["single"] = json::array({{{"Sequence", {{"id", "B"}, {"type_id", 0}}}}});
  expect_load_error(spec, {"TemplateProcessing", "sequence 'B'"});
  expect_load_error(json::array(), {"tokenizer.json: must be a JSON object"});
}

TEST(TokenizerErrors, IdsWithoutTokens) {
  const auto tok = Tokenizer::from_json(byte_level_tokenizer({{"a", "b"}}));
  EXPECT_EQ(tok->vocab_size(), 257);
  expect_error_containing([&] { tok->decode({0, 257}, false); }, {"decode", "token id 257", "0..256"});
  expect_error_containing([&] { tok->decode({-1}, false); }, {"token id -1"});
  expect_error_containing([&] { tok->token_text(1000); }, {"token id 1000"});
  EXPECT_EQ(tok->token_text(256), "ab");
}

TEST(TokenizerErrors, MissingFiles) {
  TempDir dir;
  expect_error_containing([&] { Tokenizer::load(dir.file("tokenizer.json")); }, {"tokenizer.json", "cannot open"});
  expect_error_containing([&] { Tokenizer::load_dir(dir.str()); }, {dir.str(), "no tokenizer.json"});
  write_file(dir.file("tokenizer.json"), "{\"model\": ");
  expect_error_containing([&] { Tokenizer::load(dir.file("tokenizer.json")); }, {"tokenizer.json", "invalid JSON"});
  json spec = byte_level_tokenizer({});
  spec["decoder"] = {{"type", "Nope"}};
  write_file(dir.file("tokenizer.json"), spec.dump());
  expect_error_containing([&] { Tokenizer::load_dir(dir.str()); }, {"decoder type 'Nope'", dir.file("tokenizer.json")});
}

TEST(TokenizerErrors, ConfigNamesBosAndEos) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), sentencepiece_tokenizer({"▁"}, {}).dump());
  write_file(
      dir.file("tokenizer_config.json"),
      R"({"bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>", "add_bos_token": true})");
  const auto tok = Tokenizer::load_dir(dir.str());
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_FALSE(tok->is_special(3));
  EXPECT_EQ(tok->config_json().value("add_bos_token", false), true);
  // Without tokenizer_config.json, config.json's ids are used.
  std::filesystem::remove(dir.file("tokenizer_config.json"));
  write_file(dir.file("config.json"), R"({"bos_token_id": 1, "eos_token_id": [2, 0]})");
  const auto from_model_config = Tokenizer::load_dir(dir.str());
  EXPECT_EQ(from_model_config->bos_id(), 1);
  EXPECT_EQ(from_model_config->eos_id(), 2);
  EXPECT_TRUE(from_model_config->config_json().is_object());
  EXPECT_TRUE(from_model_config->config_json().empty());
}

}  // namespace
}  // namespace dsmoe
