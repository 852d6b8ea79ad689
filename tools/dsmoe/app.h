// The dsmoe command line: every subcommand registered on one CLI11 app. main() parses and runs it; the
// command-line fuzz target (fuzz/command_line.cpp) parses it without running anything.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>

#include "commands.h"

namespace dsmoe::cli {

struct DsmoeApp {
  CLI::App app{"dsmoe: DeepSeek-MoE inference with RoPE, exact to the HuggingFace model"};
  std::map<CLI::App*, Handler> handlers;  // the subcommand's handler, run when it was parsed
  int threads = 0;                        // -t before the subcommand; 0: all cores
};

std::unique_ptr<DsmoeApp> make_app();

// Single-dash words such as llama.cpp's -cnv, -fa or -ngl: CLI11 would read them as a cluster of one-letter flags
// (-cnv as -c nv, -fa as -f a) and fail confusingly or, worse, succeed. An Error naming the word with a hint
// (what dsmoe does instead, or the long flag meant); "-n5", "-t2" (a letter and its number) and negative
// numbers pass. Arguments after "--" are not looked at.
void check_single_dash_words(int argc, const char* const* argv);

// "dsmoe: error: MESSAGE" and a pointer to --help, for a parse error that is not a request for help.
void report_parse_error(const DsmoeApp& app, const CLI::ParseError& error);

}  // namespace dsmoe::cli
