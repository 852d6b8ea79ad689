#include "timings.h"

#include <cstdio>

namespace dsmoe::cli {
namespace {

void line(std::ostream& out, const char* what, double seconds, int64_t tokens) {
  char text[160];
  const double ms = seconds * 1e3;
  const double per_token = tokens > 0 ? ms / double(tokens) : 0;
  const double per_second = seconds > 0 ? double(tokens) / seconds : 0;
  std::snprintf(text, sizeof text, "dsmoe: %13s = %10.2f ms / %6lld tokens (%8.2f ms per token, %9.2f tokens per second)\n",
                what, ms, static_cast<long long>(tokens), per_token, per_second);
  out << text;
}

}  // namespace

void Timings::add(const GenerationStats& stats) {
  prompt_tokens += stats.prompt_tokens;
  prompt_seconds += stats.prefill_seconds;
  generated_tokens += stats.generated_tokens;
  generate_seconds += stats.decode_seconds;
}

void print_timings(const Timings& t, std::ostream& out) {
  char text[96];
  std::snprintf(text, sizeof text, "dsmoe: %13s = %10.2f ms\n", "load time", t.load_seconds * 1e3);
  out << text;
  line(out, "prompt time", t.prompt_seconds, t.prompt_tokens);
  line(out, "generate time", t.generate_seconds, t.generated_tokens);
  std::snprintf(text, sizeof text, "dsmoe: %13s = %10.2f ms / %6lld tokens\n", "total time", t.total_seconds * 1e3,
                static_cast<long long>(t.prompt_tokens + t.generated_tokens));
  out << text;
}

}  // namespace dsmoe::cli
