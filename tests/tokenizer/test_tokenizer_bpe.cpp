// The BPE model: both merge formats, ignore_merges, byte fallback, unk fusing, and the heap + chunked merging
// against a naive reference (scan for the lowest-rank pair, leftmost first, merge it, repeat) on random words.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_tokenizer_fixtures.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

using nlohmann::json;
using tokenizer_fixtures::byte_chars;
using tokenizer_fixtures::byte_level_tokenizer;
using tokenizer_fixtures::Merges;
using tokenizer_fixtures::sentencepiece_tokenizer;

int32_t id_of(const Tokenizer& tok, const std::string& token) {
  auto id = tok.token_id(token);
  EXPECT_TRUE(id.has_value()) << "no token " << token;
  return id.value_or(-1);
}

TEST(TokenizerBpe, MergesAsStringsAndAsPairsAgree) {
  const Merges merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}, {"o", "r"}};
  json as_strings = byte_level_tokenizer(merges);
  json as_pairs = as_strings;
  json pairs = json::array();
  for (const auto& [left, right] : merges) pairs.push_back(json::array({byte_chars(left), byte_chars(right)}));
  as_pairs["model"]["merges"] = pairs;
  const auto a = Tokenizer::from_json(as_strings), b = Tokenizer::from_json(as_pairs);
  const std::string text = "hello world, hell or high water";
  EXPECT_EQ(a->encode(text, false), b->encode(text, false));
  EXPECT_EQ(a->encode("hello", false), std::vector<int32_t>{id_of(*a, byte_chars("hello"))});
  EXPECT_EQ(a->decode(a->encode(text, false), false), text);
}

TEST(TokenizerBpe, IgnoreMergesEmitsAWordThatIsAToken) {
  // "abc" is a token, but merging goes a+b first and (ab, c) is no merge: [ab, c].
  json spec = byte_level_tokenizer({{"a", "b"}, {"b", "c"}, {"a", "bc"}});
  const auto merging = Tokenizer::from_json(spec);
  EXPECT_EQ(merging->encode("abc", false), (std::vector<int32_t>{id_of(*merging, "ab"), id_of(*merging, "c")}));
  spec["model"]["ignore_merges"] = true;
  const auto whole = Tokenizer::from_json(spec);
  EXPECT_EQ(whole->encode("abc", false), std::vector<int32_t>{id_of(*whole, "abc")});
  EXPECT_EQ(whole->encode("abcb", false),
            (std::vector<int32_t>{id_of(*whole, "ab"), id_of(*whole, "c"), id_of(*whole, "b")}));
}

TEST(TokenizerBpe, ByteFallbackSpellsUnknownCharactersInBytes) {
  const auto tok = Tokenizer::from_json(sentencepiece_tokenizer({"▁", "h", "i"}, {{"▁", "h"}, {"▁h", "i"}}));
  // "hi é" -> "▁hi▁é"; é is not a piece, so its UTF-8 bytes C3 A9 become <0xC3> <0xA9>.
  const std::vector<int32_t> expected = {id_of(*tok, "▁hi"), id_of(*tok, "▁"), 3 + 0xC3, 3 + 0xA9};
  EXPECT_EQ(tok->encode("hi é", false), expected);
  std::vector<int32_t> with_bos = {1};
  with_bos.insert(with_bos.end(), expected.begin(), expected.end());
  EXPECT_EQ(tok->encode("hi é", true), with_bos);
  EXPECT_EQ(tok->decode(with_bos, true), "hi é");
  EXPECT_EQ(tok->decode(with_bos, false), "<s> hi é");
  // A lone continuation byte decodes as U+FFFD, as HF's ByteFallback decoder does.
  EXPECT_EQ(tok->decode({3 + 0xA9}, false), "\xEF\xBF\xBD");
}

TEST(TokenizerBpe, UnknownCharactersFuseIntoOneUnkWhenAsked) {
  json spec = sentencepiece_tokenizer({"▁", "h", "i"}, {{"▁", "h"}});
  spec["model"]["byte_fallback"] = false;
  const auto fused = Tokenizer::from_json(spec);
  EXPECT_EQ(fused->encode("hé€i", false), (std::vector<int32_t>{id_of(*fused, "▁h"), 0, id_of(*fused, "i")}));
  spec["model"]["fuse_unk"] = false;
  const auto separate = Tokenizer::from_json(spec);
  EXPECT_EQ(separate->encode("hé€i", false),
            (std::vector<int32_t>{id_of(*separate, "▁h"), 0, 0, id_of(*separate, "i")}));
}

// --- heap merging and chunking against the definition -------------------------------------------------------

struct RandomBpe {
  std::vector<std::string> alphabet;
  Merges merges;  // every merged string made by exactly one merge, so that "which pair" is never ambiguous
  std::map<std::pair<std::string, std::string>, size_t> rank;
};

RandomBpe random_bpe(std::mt19937& rng, size_t alphabet_size, size_t merge_count) {
  RandomBpe bpe;
  for (size_t i = 0; i < alphabet_size; ++i) bpe.alphabet.push_back(std::string(1, char('a' + i)));
  std::vector<std::string> tokens = bpe.alphabet;
  std::map<std::string, bool> made;
  for (const auto& t : tokens) made[t] = true;
  while (bpe.merges.size() < merge_count) {
    std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
    const std::string left = tokens[pick(rng)], right = tokens[pick(rng)];
    if (made.count(left + right) || left.size() + right.size() > 6) continue;
    made[left + right] = true;
    bpe.rank[{left, right}] = bpe.merges.size();
    bpe.merges.emplace_back(left, right);
    tokens.push_back(left + right);
  }
  return bpe;
}

std::vector<std::string> naive_merge(const RandomBpe& bpe, const std::string& word) {
  std::vector<std::string> symbols;
  for (const char c : word) symbols.push_back(std::string(1, c));
  while (true) {
    size_t best = symbols.size(), best_rank = SIZE_MAX;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto found = bpe.rank.find({symbols[i], symbols[i + 1]});
      if (found != bpe.rank.end() && found->second < best_rank) {
        best_rank = found->second;
        best = i;
      }
    }
    if (best == symbols.size()) return symbols;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + long(best) + 1);
  }
}

// Plain characters (no byte-level mapping, no pre-tokenizer): the whole text is one word.
json plain_tokenizer(const RandomBpe& bpe) {
  json vocab = json::object();
  for (const auto& c : bpe.alphabet) vocab[c] = int(vocab.size());
  json merges = json::array();
  for (const auto& [left, right] : bpe.merges) {
    vocab[left + right] = int(vocab.size());
    merges.push_back(left + " " + right);
  }
  return json{{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
}

TEST(TokenizerBpe, HeapAndChunkedMergingEqualTheDefinition) {
  for (int round = 0; round < 20; ++round) {
    std::mt19937 rng(1000 + unsigned(round));
    SCOPED_TRACE(testing::Message() << "seed " << 1000 + round);
    const RandomBpe bpe = random_bpe(rng, 6 + size_t(round % 5), 10 + size_t(round) * 4);
    const auto tok = Tokenizer::from_json(plain_tokenizer(bpe));
    for (int sample = 0; sample < 30; ++sample) {
      // Lengths on both sides of the 64-byte threshold where long words are merged in chunks.
      std::uniform_int_distribution<size_t> length(1, 300), letter(0, bpe.alphabet.size() - 1);
      std::string word;
      for (size_t n = length(rng); n > 0; --n) word += bpe.alphabet[letter(rng)];
      std::vector<int32_t> expected;
      for (const auto& symbol : naive_merge(bpe, word)) expected.push_back(*tok->token_id(symbol));
      ASSERT_EQ(tok->encode(word, false), expected) << "word " << word;
      ASSERT_EQ(tok->encode(word, false), expected) << "word " << word << ", second time (from the cache)";
    }
  }
}

}  // namespace
}  // namespace dsmoe
