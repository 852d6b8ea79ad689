// Perplexity of a model over a token stream, by fixed windows (llama-perplexity's habit of scoring each window
// from its start) or by a sliding window (the HF perplexity guide's stride). docs/perplexity-passkey.md has the
// conventions with pictures; tests/runtime/test_perplexity.cpp checks that every token is scored exactly once.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dsmoe/dsmoe.h"

namespace dsmoe {

// One window: BOS (when there is one), then the text tokens [text_begin, text_end). The tokens at window indices
// [first_scored, length) are scored, each by the logits row one position before it.
struct PerplexityWindow {
  int64_t text_begin = 0;
  int64_t text_end = 0;
  int64_t first_scored = 1;  // window index (BOS is index 0), >= 1
  int64_t length = 0;        // BOS + text tokens
};

// n_text text tokens, windows of `context` tokens in all (BOS included when has_bos).
// stride 0: non-overlapping windows of context - has_bos text tokens, every token after the first scored.
// stride S in [1, context - has_bos]: windows advance by S text tokens; each scores only the text tokens no
// earlier window scored (the last S, fewer in the last window; the first window scores all of its own).
// With BOS every text token is scored exactly once; without BOS the first token of the text (and, without a
// stride, of every window) has nothing to be predicted from and is not scored.
std::vector<PerplexityWindow> plan_perplexity_windows(int64_t n_text, int64_t context, int64_t stride,
                                                      bool has_bos);

struct PerplexityOptions {
  int64_t context = 0;               // tokens per window, BOS included
  int64_t stride = 0;                // 0: non-overlapping windows
  int64_t batch = 1;                 // windows per forward pass (equal lengths only: a short last one goes alone)
  std::optional<int32_t> bos;        // put in front of every window
  int64_t train_context = 0;         // L: NLLs split by whether the predicting position is < L
};

struct PerplexityResult {
  int64_t tokens = 0;  // scored tokens
  double nll_mean = 0;
  double nll_sd = 0;               // sample standard deviation (n - 1), NaN with one token
  double perplexity = 0;           // exp(nll_mean)
  double perplexity_se = 0;        // perplexity * nll_sd / sqrt(tokens), the delta method; NaN with one token
  int64_t tokens_before = 0;       // predicted from positions < train_context
  int64_t tokens_after = 0;        // predicted from positions >= train_context
  double nll_before = 0;           // NaN when tokens_before is 0
  double nll_after = 0;            // NaN when tokens_after is 0
  int64_t windows = 0;
  int64_t forward_passes = 0;      // Session::forward calls
  int64_t forwarded_tokens = 0;    // positions run through the model (BOS and context included)
  double seconds = 0;              // the forward passes and scoring, not loading or tokenizing
  std::vector<double> nll;         // [n_text]: the NLL of each text token, NaN where not scored
};

// Runs the windows through fresh Sessions; the NLL is -log softmax(logits)[next token], computed in double.
PerplexityResult evaluate_perplexity(const Model& model, const std::vector<int32_t>& text,
                                     const PerplexityOptions& options);

}  // namespace dsmoe
