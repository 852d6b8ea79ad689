// Passkey retrieval documents (Mohtashami & Jaggi, "Landmark Attention", 2023) in exactly the text format the
// shipped model was trained on (tools/train/corpus.py passkey_document): filler sentences, the needle
// " The pass key is 48213. Remember it." after a chosen fraction of them, more filler, then the question
// " What is the pass key? The pass key is", the first piece's leading space dropped, BOS in front.
// The filler sentences come from tools/train/passkey_filler.txt, the one list corpus.py also reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsmoe/dsmoe.h"

namespace dsmoe {

class Tokenizer;

// Keys are drawn from [kPasskeyMin, kPasskeyMax], as corpus.py draws them.
inline constexpr int64_t kPasskeyMin = 10000;
inline constexpr int64_t kPasskeyMax = 99999;

// The sentences of a filler file: one a line, lines starting with '#' and blank lines skipped (corpus.py's rule).
std::vector<std::string> parse_passkey_filler(std::string_view text);
std::vector<std::string> read_passkey_filler(const std::string& path);

struct PasskeyDocument {
  std::string key;                // "48213"
  double depth = 0;               // the fraction of the filler asked to come before the needle
  int64_t filler_sentences = 0;   // in the whole document
  int64_t sentences_before = 0;   // filler sentences before the needle: round(depth x filler_sentences)
  std::vector<int64_t> filler;    // indices into the filler list, in document order
  std::string text;               // the prompt text after BOS, ending in "The pass key is"
  std::vector<int32_t> prompt;    // BOS (when there is one) + the tokens of `text`
  std::vector<int32_t> answer;    // the tokens of " " + key: what greedy decoding must produce
  int64_t needle_token = 0;       // index in `prompt` of the needle's first token
};

class PasskeyBuilder {
 public:
  // `bos` is put in front of every prompt (the tokenizer's BOS, as in training); filler must not be empty.
  PasskeyBuilder(const Tokenizer& tokenizer, std::vector<std::string> filler, std::optional<int32_t> bos);

  // The documents of one trial, one per depth: the same key and the same filler sentences, with the needle moved.
  // The filler is drawn sentence by sentence (uniformly among those that still fit) until no sentence fits, so
  // prompt + answer is at most max_tokens and as close to it as whole sentences allow. Deterministic in
  // (seed, trial) and independent of the other trials.
  std::vector<PasskeyDocument> trial(uint64_t seed, int64_t trial, int64_t max_tokens,
                                     const std::vector<double>& depths) const;

  // The smallest max_tokens that holds BOS, the needle, the question and an answer of `answer_tokens` tokens.
  int64_t fixed_tokens(int64_t answer_tokens) const;

  static std::string needle(const std::string& key);  // " The pass key is 48213. Remember it."
  static const char* question();                      // " What is the pass key? The pass key is"

 private:
  int64_t count(const std::string& text) const;
  PasskeyDocument place(const std::string& key, const std::vector<size_t>& sentences, double depth) const;

  const Tokenizer& tokenizer_;
  std::vector<std::string> filler_;  // each with its leading space, as corpus.py joins them
  std::vector<int64_t> filler_cost_;
  std::optional<int32_t> bos_;
};

// Greedy decoding from the KV cache: feed the prompt, then take the argmax (lowest id on ties) n times,
// feeding each choice back. The session is reset first and must hold prompt.size() + n - 1 positions.
std::vector<int32_t> greedy_continuation(Session& session, const std::vector<int32_t>& prompt, int64_t n);

}  // namespace dsmoe
