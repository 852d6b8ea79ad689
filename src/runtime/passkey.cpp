#include "dsmoe/passkey.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/errors.h"
#include "dsmoe/text_file.h"
#include "dsmoe/sampler.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {
namespace {

// SplitMix64 (Steele, Lea & Flood 2014): fully specified, so a seed gives the same documents on every platform,
// which std::uniform_int_distribution does not promise.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) without modulo bias: draws below 2^64 mod n are rejected.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  uint64_t state_;
};

// Python's str.strip() on ASCII: whitespace is \t\n\v\f\r, the separators \x1c-\x1f and the space.
std::string_view strip(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r\x1c\x1d\x1e\x1f";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::vector<std::string> parse_passkey_filler(std::string_view text) {
  std::vector<std::string> sentences;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty() || line.front() == '#' || strip(line).empty()) continue;
    sentences.emplace_back(strip(line));
  }
  return sentences;
}

std::vector<std::string> read_passkey_filler(const std::string& path) {
  auto sentences = parse_passkey_filler(read_text_file(path, "passkey filler "));
  if (sentences.empty()) fail(path, ": no filler sentences (one a line expected)");
  return sentences;
}

PasskeyBuilder::PasskeyBuilder(const Tokenizer& tokenizer, std::vector<std::string> filler,
                               std::optional<int32_t> bos)
    : tokenizer_(tokenizer), bos_(bos) {
  if (filler.empty()) fail("passkey: no filler sentences");
  for (auto& sentence : filler) {
    filler_.push_back(" " + sentence);
    filler_cost_.push_back(count(filler_.back()));
  }
}

std::string PasskeyBuilder::needle(const std::string& key) { return " The pass key is " + key + ". Remember it."; }
const char* PasskeyBuilder::question() { return " What is the pass key? The pass key is"; }

int64_t PasskeyBuilder::count(const std::string& text) const {
  return int64_t(tokenizer_.encode(text, /*add_special_tokens=*/false).size());
}

int64_t PasskeyBuilder::fixed_tokens(int64_t answer_tokens) const {
  return (bos_ ? 1 : 0) + count(needle("12345")) + count(question()) + answer_tokens;
}

PasskeyDocument PasskeyBuilder::place(const std::string& key, const std::vector<size_t>& sentences,
                                      double depth) const {
  PasskeyDocument doc;
  doc.key = key;
  doc.depth = depth;
  doc.filler_sentences = int64_t(sentences.size());
  doc.sentences_before = std::llround(depth * double(sentences.size()));
  std::string before, after;
  for (size_t i = 0; i < sentences.size(); ++i) {
    (int64_t(i) < doc.sentences_before ? before : after) += filler_[sentences[i]];
    doc.filler.push_back(int64_t(sentences[i]));
  }
  const std::string body = before + needle(key) + after + question();
  doc.text = body.substr(1);  // corpus.py drops the document's first leading space
  if (bos_) doc.prompt.push_back(*bos_);
  const auto tokens = tokenizer_.encode(doc.text, false);
  doc.prompt.insert(doc.prompt.end(), tokens.begin(), tokens.end());
  // Pieces start at pre-token boundaries (a space before a word), so the needle starts where the filler
  // before it ends; the test checks that the tokens there decode to the needle.
  doc.needle_token = (bos_ ? 1 : 0) + (before.empty() ? 0 : count(before.substr(1)));
  doc.answer = tokenizer_.encode(" " + key, false);
  return doc;
}

std::vector<PasskeyDocument> PasskeyBuilder::trial(uint64_t seed, int64_t trial, int64_t max_tokens,
                                                   const std::vector<double>& depths) const {
  SplitMix64 rng(SplitMix64(seed).next() + uint64_t(trial) * 0xd1b54a32d192ed03ULL);
  const std::string key = std::to_string(kPasskeyMin + int64_t(rng.below(uint64_t(kPasskeyMax - kPasskeyMin + 1))));
  const int64_t answer_tokens = count(" " + key);
  const int64_t limit = max_tokens - answer_tokens;  // the prompt's tokens, BOS included
  const int64_t fixed = (bos_ ? 1 : 0) + count(needle(key)) + count(question()) + answer_tokens;
  int64_t budget = max_tokens - fixed;  // tokens left for filler
  if (budget < 0) {
    fail("passkey: ", max_tokens, " tokens cannot hold BOS, the needle, the question and the answer (", fixed,
         " needed)");
  }
  std::vector<size_t> sentences;
  std::vector<size_t> fitting;
  for (;;) {
    fitting.clear();
    for (size_t i = 0; i < filler_.size(); ++i) {
      if (filler_cost_[i] <= budget) fitting.push_back(i);
    }
    if (fitting.empty()) break;
    const size_t chosen = fitting[rng.below(fitting.size())];
    sentences.push_back(chosen);
    budget -= filler_cost_[chosen];
  }
  std::vector<PasskeyDocument> documents;
  for (const double depth : depths) {
    // The pieces' counts add up to the whole text's under a byte-level pre-tokenizer; should a tokenizer merge
    // across a boundary into more tokens, sentences come off the end until the prompt fits.
    std::vector<size_t> used = sentences;
    PasskeyDocument doc = place(key, used, depth);
    while (int64_t(doc.prompt.size()) > limit && !used.empty()) {
      used.pop_back();
      doc = place(key, used, depth);
    }
    if (int64_t(doc.prompt.size()) > limit) {
      fail("passkey: the needle and the question alone take ", doc.prompt.size(), " tokens, over ", limit);
    }
    documents.push_back(std::move(doc));
  }
  return documents;
}

std::vector<int32_t> greedy_continuation(Session& session, const std::vector<int32_t>& prompt, int64_t n) {
  session.reset();
  ForwardOptions last_only;
  last_only.all_logits = false;
  std::vector<int32_t> out;
  if (n <= 0) return out;
  ForwardResult r = session.forward(prompt, last_only);
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(argmax(r.logits));  // ties go to the lowest id
    if (i + 1 < n) r = session.forward({out.back()}, last_only);
  }
  return out;
}

}  // namespace dsmoe
