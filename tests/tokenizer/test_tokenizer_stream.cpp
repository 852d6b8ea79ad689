// DecodeStream: text comes out only when it is final, never half a UTF-8 character, and all of it together is
// what decode gives for all the ids.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "test_tokenizer_fixtures.h"
#include "dsmoe/tokenizer.h"
#include "tokenizer/utf8.h"

namespace dsmoe {
namespace {

using tokenizer_fixtures::byte_level_tokenizer;
using tokenizer_fixtures::sentencepiece_tokenizer;

TEST(TokenizerStream, EmojiSplitAcrossByteFallbackTokens) {
  const auto tok = Tokenizer::from_json(sentencepiece_tokenizer({"▁", "h", "i"}, {{"▁", "h"}, {"▁h", "i"}}));
  // 🙂 is F0 9F 99 82: four byte tokens.
  const std::vector<int32_t> ids = tok->encode("hi 🙂!", false);
  ASSERT_EQ(ids.size(), 7u);  // ▁hi ▁ <F0> <9F> <99> <82> !
  DecodeStream stream(*tok, false);
  std::vector<std::string> pieces;
  for (const int32_t id : ids) pieces.push_back(stream.push(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"hi", " ", "", "", "", "🙂", "!"}));
  EXPECT_EQ(stream.flush(), "");
}

TEST(TokenizerStream, ByteLevelBytesOfOneCharacterWaitForTheLast) {
  const auto tok = Tokenizer::from_json(byte_level_tokenizer({}));
  DecodeStream stream(*tok, false);
  const std::string family = "👨‍👩‍👧";  // emoji joined by ZWJ: 18 bytes, each its own token here
  std::string shown;
  for (const int32_t id : tok->encode(family, false)) {
    const std::string piece = stream.push(id);
    EXPECT_TRUE(utf8::is_valid(piece));
    EXPECT_EQ(utf8::incomplete_tail(piece), 0u);
    shown += piece;
  }
  EXPECT_EQ(shown + stream.flush(), family);
}

TEST(TokenizerStream, FlushShowsAnUnfinishedCharacterAsReplacement) {
  const auto tok = Tokenizer::from_json(byte_level_tokenizer({}));
  DecodeStream stream(*tok, false);
  EXPECT_EQ(stream.push(int32_t(*tok->token_id("a"))), "a");
  EXPECT_EQ(stream.push(0xF0), "");  // the byte-level vocab here is the bytes in order: id == byte
  EXPECT_EQ(stream.push(0x9F), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
}

TEST(TokenizerStream, SentencePieceSpacesComeOutAsDecodeHasThem) {
  const auto tok = Tokenizer::from_json(sentencepiece_tokenizer({"▁", "h", "i", "w"}, {{"▁", "h"}, {"▁h", "i"}}));
  const std::vector<int32_t> ids = tok->encode("hi hi  w", true);  // <s> ▁hi ▁hi ▁ ▁ w
  for (const bool skip : {false, true}) {
    DecodeStream stream(*tok, skip);
    std::string shown;
    for (const int32_t id : ids) shown += stream.push(id);
    shown += stream.flush();
    EXPECT_EQ(shown, tok->decode(ids, skip)) << "skip_special " << skip;
  }
}

TEST(TokenizerStream, RandomIdsStreamToTheirDecode) {
  const auto tok = Tokenizer::from_json(byte_level_tokenizer({{"a", "b"}, {"\xE4", "\xB8"}, {"\xE4\xB8", "\xAD"}}));
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any_id(0, int32_t(tok->vocab_size()) - 1);
  for (int round = 0; round < 200; ++round) {
    std::vector<int32_t> ids(size_t(1 + round % 17));
    for (auto& id : ids) id = any_id(rng);
    DecodeStream stream(*tok, false);
    std::string shown;
    for (const int32_t id : ids) {
      const std::string piece = stream.push(id);
      ASSERT_TRUE(utf8::is_valid(piece));
      shown += piece;
    }
    shown += stream.flush();
    ASSERT_EQ(shown, tok->decode(ids, false));
  }
}

}  // namespace
}  // namespace dsmoe
