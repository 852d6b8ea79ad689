#include "model/model_access.h"
#include "dsmoe/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "core/errors.h"
#include "core/parallel.h"
#include "model/config.h"

namespace dsmoe {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Logits held at once by one forward pass: 2^26 floats (256 MiB). A window of a large-vocabulary model is fed
// in pieces of at most this many rows x vocab; the KV cache carries the context from piece to piece.
constexpr int64_t kMaxLogitFloats = int64_t(1) << 26;

// -log softmax(logits)[target], in double: the max is subtracted first so that exp never overflows.
double token_nll(const float* logits, int64_t vocab, int32_t target) {
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t v = 0; v < vocab; ++v) top = std::max(top, double(logits[v]));
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - top);
  return top + std::log(sum) - double(logits[target]);
}

double mean_of(double sum, int64_t n) { return n > 0 ? sum / double(n) : kNaN; }

// The windows [first, last) of equal length, run side by side as the rows of one batch.
class WindowGroup {
 public:
  WindowGroup(const std::vector<PerplexityWindow>& windows, size_t first, size_t last,
              const std::vector<int32_t>& text, const PerplexityOptions& options)
      : windows_(windows.begin() + long(first), windows.begin() + long(last)),
        length_(windows[first].length),
        rows_(windows_.size() * size_t(length_)) {
    const int64_t bos = options.bos ? 1 : 0;
    for (size_t b = 0; b < windows_.size(); ++b) {
      int32_t* row = rows_.data() + b * size_t(length_);
      if (options.bos) row[0] = *options.bos;
      std::copy(text.begin() + windows_[b].text_begin, text.begin() + windows_[b].text_end, row + bos);
    }
  }

  int64_t batch() const { return int64_t(windows_.size()); }
  int64_t length() const { return length_; }
  int32_t token(int64_t b, int64_t i) const { return rows_[size_t(b * length_ + i)]; }
  const PerplexityWindow& window(int64_t b) const { return windows_[size_t(b)]; }

  // The first logits row any window of the group scores from (row i predicts window index i + 1).
  int64_t first_needed_row() const {
    int64_t row = length_;
    for (const auto& w : windows_) row = std::min(row, w.first_scored - 1);
    return row;
  }

  // Columns [begin, end) of every row, row-major: what Session::forward takes.
  std::vector<int32_t> columns(int64_t begin, int64_t end) const {
    std::vector<int32_t> out;
    out.reserve(windows_.size() * size_t(end - begin));
    for (size_t b = 0; b < windows_.size(); ++b) {
      const auto row = rows_.begin() + long(b * size_t(length_));
      out.insert(out.end(), row + begin, row + end);
    }
    return out;
  }

 private:
  std::vector<PerplexityWindow> windows_;
  int64_t length_;
  std::vector<int32_t> rows_;  // [batch, length]
};

struct Tally {
  double sum_before = 0, sum_after = 0;
  std::vector<bool> scored;  // [n_text]
};

// Feeds one group through a fresh cache and records the NLL of every token its windows score.
void score_group(Session& session, const WindowGroup& group, const PerplexityOptions& options, int64_t vocab,
                 PerplexityResult& result, Tally& tally) {
  const int64_t B = group.batch(), S = group.length(), bos = options.bos ? 1 : 0;
  const int64_t first_needed = group.first_needed_row();
  const int64_t piece = std::max<int64_t>(1, kMaxLogitFloats / (B * vocab));
  int64_t begin = 0;
  if (first_needed > 0) {  // context no window scores from: keys and values only, no logits
    ForwardOptions last_only;
    last_only.all_logits = false;
    session.forward(group.columns(0, first_needed), last_only);
    ++result.forward_passes;
    begin = first_needed;
  }
  for (; begin < S; begin += piece) {
    const int64_t end = std::min(S, begin + piece), n = end - begin;
    const ForwardResult r = session.forward(group.columns(begin, end));
    ++result.forward_passes;
    std::vector<double> nll(size_t(B * n), kNaN);
    parallel_for(B * n, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        const int64_t b = k / n, target = begin + k % n + 1;
        if (target < S && target >= group.window(b).first_scored) {
          nll[size_t(k)] = token_nll(r.logits.data() + k * vocab, vocab, group.token(b, target));
        }
      }
    });
    for (int64_t k = 0; k < B * n; ++k) {
      const int64_t b = k / n, row = begin + k % n, target = row + 1;
      if (target >= S || target < group.window(b).first_scored) continue;
      const size_t text_index = size_t(group.window(b).text_begin + target - bos);
      if (tally.scored[text_index]) fail("perplexity: internal error: text token ", text_index, " scored twice");
      tally.scored[text_index] = true;
      result.nll[text_index] = nll[size_t(k)];
      ++result.tokens;
      // The position that predicts the token is `row`: the model has seen positions 0..row.
      if (row < options.train_context) {
        ++result.tokens_before;
        tally.sum_before += nll[size_t(k)];
      } else {
        ++result.tokens_after;
        tally.sum_after += nll[size_t(k)];
      }
    }
  }
}

void summarize(PerplexityResult& result, const Tally& tally) {
  const auto n = result.tokens;
  double sum = 0;
  for (size_t i = 0; i < result.nll.size(); ++i) {
    if (tally.scored[i]) sum += result.nll[i];
  }
  result.nll_mean = sum / double(n);
  double squares = 0;  // two passes: the variance of values far from zero keeps its digits
  for (size_t i = 0; i < result.nll.size(); ++i) {
    if (tally.scored[i]) squares += (result.nll[i] - result.nll_mean) * (result.nll[i] - result.nll_mean);
  }
  result.nll_sd = n > 1 ? std::sqrt(squares / double(n - 1)) : kNaN;
  result.perplexity = std::exp(result.nll_mean);
  // Delta method, as llama-perplexity reports it: d exp(m) = exp(m) dm, and se(m) = sd / sqrt(n).
  result.perplexity_se = result.perplexity * result.nll_sd / std::sqrt(double(n));
  result.nll_before = mean_of(tally.sum_before, result.tokens_before);
  result.nll_after = mean_of(tally.sum_after, result.tokens_after);
}

}  // namespace

std::vector<PerplexityWindow> plan_perplexity_windows(int64_t n_text, int64_t context, int64_t stride,
                                                      bool has_bos) {
  const int64_t bos = has_bos ? 1 : 0;
  const int64_t width = context - bos;  // text tokens in a full window
  if (context < 2) fail("perplexity: a window of ", context, " tokens has no token to score (at least 2)");
  if (stride < 0 || stride > width) {
    fail("perplexity: stride ", stride, " must be within [1, ", width, "] (the text tokens of a window)");
  }
  const int64_t step = stride == 0 ? width : stride;
  std::vector<PerplexityWindow> windows;
  int64_t scored_end = 0;  // text tokens before this one belong to earlier windows
  for (int64_t begin = 0; begin < n_text; begin += step) {
    PerplexityWindow w;
    w.text_begin = begin;
    w.text_end = std::min(begin + width, n_text);
    w.length = bos + w.text_end - begin;
    w.first_scored = stride == 0 ? 1 : std::max<int64_t>(1, bos + scored_end - begin);
    scored_end = w.text_end;
    if (w.first_scored < w.length) windows.push_back(w);
    if (w.text_end == n_text) break;
  }
  return windows;
}

PerplexityResult evaluate_perplexity(const Model& model, const std::vector<int32_t>& text,
                                     const PerplexityOptions& options) {
  if (options.batch < 1) fail("perplexity: batch ", options.batch, " must be at least 1");
  const auto windows = plan_perplexity_windows(int64_t(text.size()), options.context, options.stride,
                                               options.bos.has_value());
  if (windows.empty()) fail("perplexity: ", text.size(), " text tokens leave no token to score");
  const int64_t vocab = model_config(model).vocab_size;
  PerplexityResult result;
  result.windows = int64_t(windows.size());
  result.nll.assign(text.size(), kNaN);
  Tally tally;
  tally.scored.assign(text.size(), false);

  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Session> session;  // replaced only when the batch size changes (the last, short window)
  int64_t session_batch = 0;
  for (size_t first = 0; first < windows.size();) {
    size_t last = first + 1;  // rows of a batch must be equally long: a short last window runs alone
    while (last < windows.size() && int64_t(last - first) < options.batch &&
           windows[last].length == windows[first].length) {
      ++last;
    }
    const WindowGroup group(windows, first, last, text, options);
    if (session_batch != group.batch()) {
      session = std::make_unique<Session>(model, group.batch(), options.context);
      session_batch = group.batch();
    }
    session->reset();  // every window starts from an empty cache
    score_group(*session, group, options, vocab, result, tally);
    result.forwarded_tokens += group.batch() * group.length();
    first = last;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summarize(result, tally);
  return result;
}

}  // namespace dsmoe
