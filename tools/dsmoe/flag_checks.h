// Range checks for numeric flags, as CLI11 validators: a bad value stops the parse with
// "dsmoe: error: --top-p: must be a number in [0, 1], found 2" and exit code 1.
//
// CLI11's own CLI::Range lets NaN through (every comparison with NaN is false) and says nothing of infinities;
// these refuse both. They apply to every element of a list option (bench's -t 1,2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>

namespace dsmoe::cli {

enum class Bound { kClosed, kOpen };

// A finite number between lo and hi; an open bound excludes its end (--repeat-penalty must be > 0).
CLI::Validator number_in(double lo, double hi, Bound lower = Bound::kClosed, Bound upper = Bound::kClosed);
// An integer between lo and hi, both included.
CLI::Validator integer_in(int64_t lo, int64_t hi);
inline constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// Token counts and lengths: at most 2^24 (16,777,216) positions, far past any trained context; the KV cache
// for it is checked against memory once the model is known.
inline constexpr int64_t kMaxTokens = int64_t(1) << 24;
CLI::Validator token_count(int64_t lo = 0);
// -t: 0 (all cores; unless lowest is 1) up to 4 threads per core of this machine.
CLI::Validator thread_count(int lowest = 0);

}  // namespace dsmoe::cli
