// The windows of `dsmoe perplexity`: with BOS every text token is scored exactly once, by either convention;
// strided windows score their last `stride` tokens; windows never exceed the context. (The NLL values are
// checked against the NumPy oracle in tests/reference/check_long_context.py.)
#include <gtest/gtest.h>

#include <vector>

#include "core/errors.h"
#include "dsmoe/perplexity.h"

namespace dsmoe {
namespace {

// How often each text token is scored by the plan.
std::vector<int> times_scored(const std::vector<PerplexityWindow>& windows, int64_t n_text, bool bos) {
  std::vector<int> times(size_t(n_text), 0);
  for (const auto& w : windows) {
    for (int64_t i = w.first_scored; i < w.length; ++i) ++times[size_t(w.text_begin + i - (bos ? 1 : 0))];
  }
  return times;
}

TEST(PerplexityWindows, EveryTokenScoredOnceWithBos) {
  for (int64_t n = 1; n <= 40; ++n) {
    for (int64_t ctx = 2; ctx <= 9; ++ctx) {
      for (int64_t stride = 0; stride <= ctx - 1; ++stride) {
        SCOPED_TRACE(::testing::Message() << "n " << n << " ctx " << ctx << " stride " << stride);
        const auto windows = plan_perplexity_windows(n, ctx, stride, true);
        EXPECT_EQ(times_scored(windows, n, true), std::vector<int>(size_t(n), 1));
        for (size_t k = 0; k < windows.size(); ++k) {
          const auto& w = windows[k];
          EXPECT_LE(w.length, ctx);
          EXPECT_EQ(w.length, 1 + w.text_end - w.text_begin);
          EXPECT_GE(w.first_scored, 1);
          if (k + 1 < windows.size()) {
            EXPECT_EQ(w.length, ctx) << "only the last window may be short";
          }
          if (stride > 0 && k > 0 && k + 1 < windows.size()) {
            EXPECT_EQ(w.length - w.first_scored, stride);
          }
          if (stride > 0) {
            EXPECT_EQ(w.text_begin, int64_t(k) * stride);
          }
        }
      }
    }
  }
}

TEST(PerplexityWindows, WithoutBosTheFirstTokenIsContext) {
  for (int64_t n = 2; n <= 30; ++n) {
    for (int64_t ctx = 2; ctx <= 7; ++ctx) {
      const auto fixed = times_scored(plan_perplexity_windows(n, ctx, 0, false), n, false);
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(fixed[size_t(i)], i % ctx == 0 ? 0 : 1) << n << " " << ctx << " " << i;
      for (int64_t stride = 1; stride <= ctx; ++stride) {
        auto want = std::vector<int>(size_t(n), 1);
        want[0] = 0;
        if (stride == ctx) want = fixed;  // a stride of the whole window is the default
        EXPECT_EQ(times_scored(plan_perplexity_windows(n, ctx, stride, false), n, false), want)
            << n << " " << ctx << " " << stride;
      }
    }
  }
}

TEST(PerplexityWindows, StrideOfAWholeWindowIsTheDefault) {
  const auto plain = plan_perplexity_windows(100, 16, 0, true);
  const auto strided = plan_perplexity_windows(100, 16, 15, true);
  ASSERT_EQ(plain.size(), strided.size());
  for (size_t k = 0; k < plain.size(); ++k) {
    EXPECT_EQ(plain[k].text_begin, strided[k].text_begin);
    EXPECT_EQ(plain[k].text_end, strided[k].text_end);
    EXPECT_EQ(plain[k].first_scored, strided[k].first_scored);
  }
}

TEST(PerplexityWindows, AHandWorkedExample) {
  // 10 text tokens, windows of BOS + 3, stride 2: [0,3) scores 0-2, [2,5) 3-4, [4,7) 5-6, [6,9) 7-8, [8,10) 9.
  const auto w = plan_perplexity_windows(10, 4, 2, true);
  ASSERT_EQ(w.size(), 5u);
  const int64_t begins[] = {0, 2, 4, 6, 8}, ends[] = {3, 5, 7, 9, 10}, firsts[] = {1, 2, 2, 2, 2};
  for (size_t k = 0; k < w.size(); ++k) {
    EXPECT_EQ(w[k].text_begin, begins[k]);
    EXPECT_EQ(w[k].text_end, ends[k]);
    EXPECT_EQ(w[k].first_scored, firsts[k]);
  }
}

TEST(PerplexityWindows, BadSizesAreErrors) {
  EXPECT_THROW(plan_perplexity_windows(10, 1, 0, true), Error);
  EXPECT_THROW(plan_perplexity_windows(10, 4, 4, true), Error);  // 3 text tokens per window: stride 4 skips some
  EXPECT_THROW(plan_perplexity_windows(10, 4, -1, true), Error);
  EXPECT_TRUE(plan_perplexity_windows(0, 4, 0, true).empty());
  EXPECT_TRUE(plan_perplexity_windows(1, 4, 0, false).empty());  // one token and no BOS: nothing to predict it
}

}  // namespace
}  // namespace dsmoe
