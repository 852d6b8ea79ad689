// Text handling around the model: invalid UTF-8 input, Oniguruma's \s in our PCRE2 patterns, and added tokens
// (expected ids below were produced by HF tokenizers 0.23.2 on tests/tokenizer_compat/synthetic/added_tokens.json).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_tokenizer_fixtures.h"
#include "tokenizer/pattern.h"
#include "dsmoe/tokenizer.h"
#include "tokenizer/utf8.h"

namespace dsmoe {
namespace {

using tokenizer_fixtures::byte_level_tokenizer;
using tokenizer_fixtures::sentencepiece_tokenizer;

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(TokenizerText, IllFormedUtf8BecomesReplacementCharactersLikePython) {
  // Each expectation is Python's bytes.decode("utf-8", errors="replace") of the input (also Rust's
  // from_utf8_lossy and the WHATWG TextDecoder): one U+FFFD per maximal ill-formed subsequence.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xF0\x9F\x99", kReplacement},                                // a 4-byte character cut short
      {"\xC0\xAF", kReplacement + kReplacement},                     // overlong: neither byte can start anything
      {"\xED\xA0\x80", kReplacement + kReplacement + kReplacement},  // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", kReplacement + kReplacement + kReplacement + kReplacement},  // past U+10FFFF
      {"a\x80"
       "b",
       "a" + kReplacement + "b"},
      {"\xE2\x82\xF0\x9F\x99\x82", kReplacement + "\xF0\x9F\x99\x82"},
      {"\xFF\xFE", kReplacement + kReplacement},
      {"plain 🙂 text", "plain 🙂 text"},
  };
  for (const auto& [bytes, expected] : cases) {
    EXPECT_EQ(utf8::to_valid(bytes), expected);
    EXPECT_EQ(utf8::is_valid(bytes), bytes == expected);
  }
}

TEST(TokenizerText, InvalidInputEncodesAsItsReplacementText) {
  const auto tok = Tokenizer::from_json(byte_level_tokenizer({{"a", "b"}}));
  const std::string bytes = "ab\xF0\x9F\x99 x\xFF";
  const std::string text = utf8::to_valid(bytes);
  EXPECT_EQ(tok->encode(bytes, false), tok->encode(text, false));
  EXPECT_EQ(tok->decode(tok->encode(bytes, false), false), text);
}

TEST(TokenizerText, IncompleteTailCountsOnlyUnfinishedCharacters) {
  EXPECT_EQ(utf8::incomplete_tail(""), 0u);
  EXPECT_EQ(utf8::incomplete_tail("abc"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F\x99"), 3u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F\x99\x82"), 0u);
  EXPECT_EQ(utf8::incomplete_tail("\xC3"), 1u);
  EXPECT_EQ(utf8::incomplete_tail("\xC3\xA9"), 0u);
}

std::vector<std::string> matches(const Pattern& pattern, const std::string& text) {
  std::vector<std::string> found;
  pattern.for_each_match(text, [&](size_t begin, size_t end) { found.push_back(text.substr(begin, end - begin)); });
  return found;
}

TEST(TokenizerText, WhitespaceClassesAreOniguruma) {
  // U+180E is whitespace to PCRE2's UCP \s but not to Oniguruma, whose \s is Unicode White_Space.
  const std::string text =
      "a\u180E"
      "b\u3000"
      "c\u0085"
      "d\u00A0"
      "e";
  EXPECT_EQ(matches(Pattern::regex("\\s", "test"), text), (std::vector<std::string>{"\u3000", "\u0085", "\u00A0"}));
  EXPECT_EQ(matches(Pattern::regex("[^\\s\\p{L}]", "test"), text), std::vector<std::string>{"\u180E"});
  EXPECT_EQ(matches(Pattern::regex("\\S+", "test"), "x\u180Ey z"), (std::vector<std::string>{"x\u180Ey", "z"}));
  EXPECT_EQ(matches(Pattern::regex("[\\S]+", "test"), "x\u180Ey z"), (std::vector<std::string>{"x\u180Ey", "z"}));
  // GPT-2's "\s+(?!\S)" leaves the last space of a run for the next word.
  EXPECT_EQ(matches(Pattern::regex("\\s+(?!\\S)|\\s+", "test"), "a   b"), (std::vector<std::string>{"  ", " "}));
  EXPECT_EQ(onig_to_pcre2("[\\]\\s]"), "[\\]" + std::string(onig_to_pcre2("[\\s]")).substr(1));
}

TEST(TokenizerText, EmptyMatchesAdvanceLikeOniguruma) {
  // onig's find_iter: an empty match right where the previous match ended is skipped.
  EXPECT_EQ(matches(Pattern::regex("x*", "test"), "axxb"), (std::vector<std::string>{"", "xx", ""}));
  const auto spans = Pattern::regex("x*", "test").find_spans("ab");
  ASSERT_EQ(spans.size(), 5u);  // empty match, "a", empty match, "b", empty match at the end
}

class AddedTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = Tokenizer::load(std::string(DSMOE_SOURCE_DIR) + "/tests/tokenizer_compat/synthetic/added_tokens.json");
  }
  std::vector<int32_t> ids(const std::string& text) const { return tok_->encode(text, false); }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(AddedTokens, LstripAndRstripTakeTheSpacesBesideThem) {
  // <A> lstrip, <B> rstrip, <D> both; 32 is the space byte.
  EXPECT_EQ(ids("x <A> y"), (std::vector<int32_t>{120, 256, 32, 121}));
  EXPECT_EQ(ids("x  \t<A>y"), (std::vector<int32_t>{120, 256, 121}));
  EXPECT_EQ(ids("x<B>   y"), (std::vector<int32_t>{120, 257, 121}));
  EXPECT_EQ(ids("x <D>  y"), (std::vector<int32_t>{120, 262, 121}));
  EXPECT_EQ(ids("\u3000<D>\u00a0z"), (std::vector<int32_t>{262, 122}));
}

TEST_F(AddedTokens, SingleWordNeedsWordBoundaries) {
  EXPECT_EQ(ids("a cat sat"), (std::vector<int32_t>{97, 32, 258, 32, 115, 97, 116}));
  EXPECT_EQ(ids("(cat)"), (std::vector<int32_t>{40, 258, 41}));
  EXPECT_EQ(ids("cats"), (std::vector<int32_t>{99, 97, 116, 115}));
  EXPECT_EQ(ids("concatenate"), (std::vector<int32_t>{99, 111, 110, 99, 97, 116, 101, 110, 97, 116, 101}));
}

TEST_F(AddedTokens, LongestMatchWinsAndNormalizedTokensMatchNormalizedText) {
  EXPECT_EQ(ids("<<<<"), (std::vector<int32_t>{261, 60}));
  // "cat" is not normalized: found in the raw text only. "<C>" is: the Lowercase normalizer makes it "<c>", which
  // is what it matches (after lowercasing the text) and what decode shows.
  EXPECT_EQ(ids("Cat CAT cat."), (std::vector<int32_t>{99, 97, 116, 32, 99, 97, 116, 32, 258, 46}));
  EXPECT_EQ(ids("HELLO <C> World"),
            (std::vector<int32_t>{104, 101, 108, 108, 111, 32, 259, 32, 119, 111, 114, 108, 100}));
  EXPECT_EQ(tok_->decode({259}, false), "<c>");
  EXPECT_EQ(tok_->token_text(259), "<C>");
}

TEST_F(AddedTokens, SpecialTokensAreSkippedOnRequest) {
  EXPECT_TRUE(tok_->is_special(256));
  EXPECT_FALSE(tok_->is_special(258));
  EXPECT_EQ(tok_->decode({120, 256, 258, 121}, true), "xcaty");
  EXPECT_EQ(tok_->decode({120, 256, 258, 121}, false), "x<A>caty");
  // The added "é" is already the byte-level vocab's character for byte 0xE9, so it takes that id, not 263.
  EXPECT_EQ(tok_->token_id("é"), 0xE9);
  EXPECT_EQ(tok_->vocab_size(), 263);
}

TEST(TokenizerText, EmptyTextHasNoTokensButTheTemplateStillApplies) {
  const auto tok = Tokenizer::from_json(sentencepiece_tokenizer({"▁"}, {}));
  EXPECT_TRUE(tok->encode("", false).empty());
  EXPECT_EQ(tok->encode("", true), std::vector<int32_t>{1});
  EXPECT_EQ(tok->decode({}, false), "");
}

}  // namespace
}  // namespace dsmoe
