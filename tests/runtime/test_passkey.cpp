// Passkey documents with the shipped model's tokenizer and the training filler file: the structure of corpus.py's
// format, the length rule (prompt + answer <= the context, and no further sentence would fit), the needle at the
// asked depth, and determinism in the seed. (Byte-for-byte agreement with corpus.py itself and retrieval by the
// shipped model are checked in tests/reference/check_long_context.py.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"
#include "dsmoe/passkey.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

const std::string kModelDir = std::string(DSMOE_SOURCE_DIR) + "/models/dsmoe-kjv-9m";
const std::string kFillerPath = std::string(DSMOE_SOURCE_DIR) + "/tools/train/passkey_filler.txt";
const std::vector<double> kDepths = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1};

class Passkey : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = Tokenizer::load_dir(kModelDir).release();
    filler_ = new std::vector<std::string>(read_passkey_filler(kFillerPath));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete filler_;
  }
  static PasskeyBuilder builder() { return PasskeyBuilder(*tokenizer_, *filler_, tokenizer_->bos_id()); }
  static int64_t count(const std::string& text) { return int64_t(tokenizer_->encode(text, false).size()); }

  static Tokenizer* tokenizer_;
  static std::vector<std::string>* filler_;
};
Tokenizer* Passkey::tokenizer_ = nullptr;
std::vector<std::string>* Passkey::filler_ = nullptr;

TEST(PasskeyFiller, ParsesLinesSkippingCommentsAndBlanks) {
  EXPECT_EQ(parse_passkey_filler("# why\nOne.\r\n\n  Two two.  \n#x\nThree."),
            (std::vector<std::string>{"One.", "Two two.", "Three."}));
  EXPECT_TRUE(parse_passkey_filler("# only a comment\n\n").empty());
  EXPECT_THROW(read_passkey_filler("/nonexistent/filler.txt"), Error);
}

TEST_F(Passkey, DocumentsHaveTheTrainingFormatAndLength) {
  int64_t min_cost = INT64_MAX;
  for (const auto& s : *filler_) min_cost = std::min(min_cost, count(" " + s));
  for (const int64_t ctx : {64, 256, 1024}) {
    for (int64_t trial = 0; trial < 4; ++trial) {
      const auto docs = builder().trial(7, trial, ctx, kDepths);
      ASSERT_EQ(docs.size(), kDepths.size());
      for (const auto& doc : docs) {
        SCOPED_TRACE(::testing::Message() << "ctx " << ctx << " trial " << trial << " depth " << doc.depth);
        const int64_t used = int64_t(doc.prompt.size() + doc.answer.size());
        EXPECT_LE(used, ctx);
        EXPECT_LT(ctx - used, min_cost) << "another filler sentence would have fitted";
        ASSERT_EQ(doc.key.size(), 5u);
        EXPECT_GE(std::stoll(doc.key), kPasskeyMin);
        EXPECT_LE(std::stoll(doc.key), kPasskeyMax);
        EXPECT_EQ(doc.prompt.front(), *tokenizer_->bos_id());
        EXPECT_EQ(doc.answer, tokenizer_->encode(" " + doc.key, false));
        EXPECT_EQ(tokenizer_->decode({doc.prompt.begin() + 1, doc.prompt.end()}, false), doc.text);
        EXPECT_NE(doc.text.front(), ' ');
        const std::string question = "What is the pass key? The pass key is";
        ASSERT_GE(doc.text.size(), question.size());
        EXPECT_EQ(doc.text.substr(doc.text.size() - question.size()), question);
        // The needle sits after round(depth x n) filler sentences; each filler sentence holds exactly one '.'.
        const std::string needle = "The pass key is " + doc.key + ". Remember it.";
        const size_t at = doc.text.find(needle);
        ASSERT_NE(at, std::string::npos);
        EXPECT_EQ(int64_t(std::count(doc.text.begin(), doc.text.begin() + long(at), '.')), doc.sentences_before);
        EXPECT_EQ(doc.sentences_before, std::llround(doc.depth * double(doc.filler_sentences)));
        EXPECT_EQ(int64_t(doc.filler.size()), doc.filler_sentences);
        const std::string from_needle =
            tokenizer_->decode({doc.prompt.begin() + doc.needle_token, doc.prompt.end()}, false);
        EXPECT_EQ(from_needle.rfind(doc.sentences_before == 0 ? needle : " " + needle, 0), 0u) << from_needle;
      }
    }
  }
}

TEST_F(Passkey, ATrialMovesOneNeedleThroughOneHaystack) {
  const auto docs = builder().trial(3, 5, 300, kDepths);
  const std::string needle = " The pass key is " + docs[0].key + ". Remember it.";
  auto without_needle = [&](const PasskeyDocument& d) {
    std::string text = " " + d.text;
    text.erase(text.find(needle), needle.size());
    return text;
  };
  for (const auto& doc : docs) {
    EXPECT_EQ(doc.key, docs[0].key);
    EXPECT_EQ(doc.filler, docs[0].filler);
    EXPECT_EQ(without_needle(doc), without_needle(docs[0]));
  }
  EXPECT_EQ(docs.front().text.rfind("The pass key is", 0), 0u);  // depth 0: the needle opens the document
  EXPECT_NE(docs.back().text.find(needle.substr(1) + " What is the pass key?"), std::string::npos);  // depth 1
}

TEST_F(Passkey, TheSeedDecidesEverything) {
  const auto a = builder().trial(11, 2, 256, kDepths);
  const auto b = builder().trial(11, 2, 256, kDepths);
  const auto other_seed = builder().trial(12, 2, 256, kDepths);
  const auto other_trial = builder().trial(11, 3, 256, kDepths);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_EQ(a[i].answer, b[i].answer);
  }
  EXPECT_NE(a[0].prompt, other_seed[0].prompt);
  EXPECT_NE(a[0].prompt, other_trial[0].prompt);
}

TEST_F(Passkey, TooSmallAContextIsAnError) {
  EXPECT_THROW(builder().trial(1, 0, 10, kDepths), Error);
  const int64_t fixed = builder().fixed_tokens(count(" 12345"));
  const auto docs = builder().trial(1, 0, fixed, {0.5});  // room for no filler at all
  EXPECT_EQ(docs[0].filler_sentences, 0);
}

}  // namespace
}  // namespace dsmoe
