#include "flag_checks.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "dsmoe/threads.h"

namespace dsmoe::cli {
namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// The whole string as a double; false for trailing text. NaN and infinities parse, and are judged by the caller.
bool parse_double(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

bool parse_integer(const std::string& text, int64_t* value) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') ++first;
  const auto [end, error] = std::from_chars(first, last, *value);
  return error == std::errc() && end == last && first != last;
}

}  // namespace

CLI::Validator number_in(double lo, double hi, Bound lower, Bound upper) {
  const std::string range = std::string(lower == Bound::kOpen ? "(" : "[") + format_number(lo) + ", " +
                            (std::isinf(hi) ? std::string("inf") : format_number(hi)) +
                            (upper == Bound::kOpen || std::isinf(hi) ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!parse_double(text, &v)) return "must be a number in " + range + ", found '" + text + "'";
        const bool inside = std::isfinite(v) && (lower == Bound::kOpen ? v > lo : v >= lo) &&
                            (upper == Bound::kOpen ? v < hi : v <= hi);
        if (!inside) return "must be a finite number in " + range + ", found " + text;
        return "";
      },
      "NUMBER in " + range);
}

CLI::Validator integer_in(int64_t lo, int64_t hi) {
  const std::string range =
      "[" + std::to_string(lo) + ", " + (hi == kNoLimit ? std::string("...") : std::to_string(hi)) + "]";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        int64_t v = 0;
        if (!parse_integer(text, &v)) return "must be an integer in " + range + ", found '" + text + "'";
        if (v < lo || v > hi) return "must be an integer in " + range + ", found " + text;
        return "";
      },
      "INT in " + range);
}

CLI::Validator token_count(int64_t lo) { return integer_in(lo, kMaxTokens); }

CLI::Validator thread_count(int lowest) {
  const int most = max_useful_threads();
  return CLI::Validator(
      [most, lowest](std::string& text) -> std::string {
        int64_t v = 0;
        if (!parse_integer(text, &v) || v < lowest || v > most) {
          return std::string(lowest == 0 ? "must be 0 (all cores) or a thread count" : "must be a thread count") +
                 " up to " + std::to_string(most) + " (4 per core of the " + std::to_string(most / 4) +
                 " this process may use), found '" + text + "'";
        }
        return "";
      },
      "INT in [" + std::to_string(lowest) + ", " + std::to_string(most) + "]");
}

}  // namespace dsmoe::cli
