// The dsmoe subcommands, one file each. Each registers its options and returns its handler.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace dsmoe::cli {

using Handler = std::function<int()>;

Handler add_inspect_command(CLI::App& app);
Handler add_logits_command(CLI::App& app);
Handler add_bench_command(CLI::App& app);
Handler add_tokenize_command(CLI::App& app);
Handler add_template_command(CLI::App& app);
Handler add_run_command(CLI::App& app);
Handler add_chat_command(CLI::App& app);
Handler add_perplexity_command(CLI::App& app);
Handler add_passkey_command(CLI::App& app);
Handler add_quantize_command(CLI::App& app);
Handler add_convert_command(CLI::App& app);
Handler add_make_model_command(CLI::App& app);
Handler add_serve_command(CLI::App& app);

}  // namespace dsmoe::cli
