// dsmoe logits: the forward pass over rows of token ids, written as .npy files so that any other
// implementation (HF transformers, llama.cpp, tests/reference) can be compared with ours.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "generation_options.h"
#include "rope_options.h"
#include "dsmoe/error.h"
#include "dsmoe/text_file.h"
#include "dsmoe/dsmoe.h"
#include "dsmoe/npy.h"
#include "token_ids.h"
#include "flag_checks.h"

namespace dsmoe::cli {
namespace {

struct LogitsArgs {
  std::string model_dir;
  RopeOptions rope;
  std::string ids;
  std::string ids_file;
  std::string out_dir;
  bool hidden_states = false;
  bool routing = false;
  int64_t prefill = 0;
};

// "5,9,17;1,2,3" (or one row per line in a file, ids split by commas or spaces) -> rows.
std::vector<std::vector<int32_t>> parse_rows(const std::string& text, char row_separator) {
  std::vector<std::vector<int32_t>> rows;
  std::stringstream row_stream(text);
  std::string row_text;
  while (std::getline(row_stream, row_text, row_separator)) {
    std::vector<int32_t> row = parse_token_ids(row_text, "logits");
    if (!row.empty()) rows.push_back(std::move(row));
  }
  if (rows.empty()) fail("logits: no token ids given");
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != rows[0].size()) {
      fail("logits: row ", r, " has ", rows[r].size(), " ids but row 0 has ", rows[0].size(),
           " (rows must be equally long)");
    }
  }
  return rows;
}

// The columns [begin, end) of every row, flattened row-major.
std::vector<int32_t> columns(const std::vector<std::vector<int32_t>>& rows, size_t begin, size_t end) {
  std::vector<int32_t> out;
  for (const auto& row : rows) out.insert(out.end(), row.begin() + long(begin), row.begin() + long(end));
  return out;
}

// Incremental logits: prefill the first k positions in one pass, then one position per step.
std::vector<float> prefill_then_decode(const Model& model, const std::vector<std::vector<int32_t>>& rows, size_t k) {
  const int64_t B = int64_t(rows.size()), S = int64_t(rows[0].size()), V = model.info().vocab_size;
  Session session(model, B, S);
  std::vector<float> logits(size_t(B * S * V));
  auto place = [&](const ForwardResult& r, size_t first) {
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < r.n_new; ++i) {
        std::copy_n(r.logits.data() + (b * r.n_new + i) * V, V, logits.data() + (b * S + int64_t(first) + i) * V);
      }
    }
  };
  place(session.forward(columns(rows, 0, k)), 0);
  for (size_t pos = k; pos < size_t(S); ++pos) place(session.forward(columns(rows, pos, pos + 1)), pos);
  return logits;
}

int run_logits(const LogitsArgs& args) {
  if (args.ids.empty() == args.ids_file.empty()) fail("logits: give exactly one of --ids or --ids-file");
  std::string text = args.ids;
  char separator = ';';
  if (!args.ids_file.empty()) {
    text = read_text_file(args.ids_file);
    separator = '\n';
  }
  const auto rows = parse_rows(text, separator);
  const int64_t B = int64_t(rows.size()), S = int64_t(rows[0].size());
  if (args.prefill < 0 || args.prefill > S)
    fail("logits: --prefill ", args.prefill, " must be within [0, ", S, "] (0: no incremental pass)");

  const auto model = Model::load(args.model_dir, args.rope.load_options());
  report_rope(*model, S, args.rope);
  const ModelInfo c = model->info();
  for (const auto& key : c.unused_config_keys) std::cerr << "note: config.json key '" << key << "' is not used\n";
  if (S > c.max_position_embeddings) {
    std::cerr << "note: " << S << " positions exceed max_position_embeddings " << c.max_position_embeddings << "\n";
  }
  std::filesystem::create_directories(args.out_dir);
  const std::filesystem::path out(args.out_dir);

  Session session(*model, B, S);
  ForwardOptions options;
  options.hidden_states = args.hidden_states;
  options.routing = args.routing;
  const ForwardResult r = session.forward(columns(rows, 0, size_t(S)), options);
  write_npy((out / "logits.npy").string(), r.logits.data(), {B, S, c.vocab_size});
  if (args.hidden_states) {
    write_npy((out / "hidden_states.npy").string(), r.hidden_states.data(),
              {c.num_hidden_layers + 1, B, S, c.hidden_size});
  }
  if (args.routing) {
    const auto M = int64_t(r.moe_layers.size());
    std::vector<int32_t> layers(r.moe_layers.begin(), r.moe_layers.end());
    write_npy((out / "routing_layers.npy").string(), layers.data(), {M});
    write_npy((out / "routing_experts.npy").string(), r.routed_experts.data(), {M, B, S, c.num_experts_per_tok});
    write_npy((out / "routing_weights.npy").string(), r.routed_weights.data(), {M, B, S, c.num_experts_per_tok});
  }
  if (args.prefill > 0) {
    const std::vector<float> decoded = prefill_then_decode(*model, rows, size_t(args.prefill));
    write_npy((out / "logits_decode.npy").string(), decoded.data(), {B, S, c.vocab_size});
  }
  std::cerr << "wrote " << B << " x " << S << " positions to " << args.out_dir << "\n";
  return 0;
}

}  // namespace

Handler add_logits_command(CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  app.add_option("-m,--model", args->model_dir, "model: a folder or a .gguf file (default: $DSMOE_MODEL, else the shipped model)");
  args->rope.cache_type = "f32";  // a measurement: HF's float32 computation unless asked otherwise
  add_rope_options(app, args->rope);
  app.add_option("--ids", args->ids, "token ids: rows separated by ';', ids by ','");
  app.add_option("--ids-file", args->ids_file, "a file of token ids, one row per line");
  app.add_option("--out", args->out_dir, "output directory for the .npy files")->required();
  app.add_flag("--hidden-states", args->hidden_states, "also write hidden_states.npy [L+1, B, S, H]");
  app.add_flag("--routing", args->routing, "also write the chosen experts and weights per MoE layer");
  app.add_option("--prefill", args->prefill, "also write logits_decode.npy: prefill K tokens, then decode one by one")
      ->check(token_count());
  return [args] {
    if (args->model_dir.empty()) args->model_dir = default_model_dir();
    return run_logits(*args);
  };
}

}  // namespace dsmoe::cli
