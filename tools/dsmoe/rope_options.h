// The RoPE flags every command that runs the model shares (llama.cpp's spelling), and -v's report of what
// they make of the file's RoPE.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "dsmoe/dsmoe.h"

namespace dsmoe::cli {

struct RopeOptions {
  std::string scaling;
  double scale = 0;
  double freq_base = 0;
  int64_t original_context = 0;
  double beta_fast = 0;
  double beta_slow = 0;
  double attn_factor = 0;
  std::string dynamic_policy;
  bool verbose = false;
  bool no_mmap = false;  // --no-mmap / --mmap: load options every command that runs the model takes too
  bool mmap = false;
  std::string cache_type = "f16";  // --cache-type: the KV cache's type
  CLI::App* app = nullptr;

  // Only the flags given on the command line: the rest keep the file's values.
  RopeOverrides overrides() const;
  LoadOptions load_options() const;  // the overrides, --no-mmap and --cache-type
};

void add_rope_options(CLI::App& app, RopeOptions& options);

// With -v: the derived RoPE numbers on stderr (base, factor, attention factor, original and effective context).
void report_rope(const Model& model, int64_t context, const RopeOptions& options);

}  // namespace dsmoe::cli
