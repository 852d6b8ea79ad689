// The summary llama.cpp users look for at the end of a run (llama_perf_context_print): load, prompt, generation
// and total time, each with its token count, ms per token and tokens per second. A chat adds up its turns.
#pragma once

#include <cstdint>
#include <ostream>

#include "dsmoe/generator.h"

namespace dsmoe::cli {

struct Timings {
  double load_seconds = 0;
  int64_t prompt_tokens = 0;  // prefilled (cached tokens are not counted: they cost nothing)
  double prompt_seconds = 0;
  int64_t generated_tokens = 0;
  double generate_seconds = 0;
  double total_seconds = 0;  // wall clock from the start of the command, model load included

  void add(const GenerationStats& stats);
};

void print_timings(const Timings& timings, std::ostream& out);

}  // namespace dsmoe::cli
