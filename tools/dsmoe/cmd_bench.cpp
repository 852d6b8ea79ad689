// dsmoe bench: prompt processing and generation speed in llama-bench's terms. ppN prefills N random tokens into an
// empty KV cache in one forward call; tgN decodes N tokens one at a time from an empty cache, each step feeding the
// argmax of the last. Every test runs once to warm up (not counted), then -r times; t/s is the mean ± sample sd.
// -d D runs each test with D positions already in the cache (llama-bench's "@ dD"), and reports the cache bytes
// and the resident memory after it: the memory of a long context. The depth's tokens are one fixed random
// sequence, so a cache that holds its first positions (from a shallower depth) is extended, not refilled.
// The model is a file (-m: an HF folder or a .gguf) or a config with random weights (--config, --layers keeping
// the first N decoder layers so that the 16B shape fits a small machine).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "bench_default_config.h"
#include "bench_report.h"
#include "commands.h"
#include "dsmoe/dsmoe.h"
#include "dsmoe/error.h"
#include "dsmoe/json_file.h"
#include "dsmoe/threads.h"
#include "flag_checks.h"
#include "generation_options.h"
#include "rope_options.h"

namespace dsmoe::cli {
namespace {

constexpr int64_t kBenchMaxTokens = int64_t(1) << 20;  // -p, -n, -d: a million tokens
constexpr const char* kDefaultConfig = "configs/deepseek-moe-16b-base.json";

struct BenchArgs {
  std::string model_path;   // -m
  std::string config_path;  // --config (random weights)
  int64_t layers = 0;       // 0: all of the config's layers
  std::string dtype = "bf16";
  std::vector<int64_t> prompts{512};
  std::vector<int64_t> generates{128};
  std::vector<int64_t> depths{0};
  std::vector<int64_t> threads;  // empty: the global -t, or every core
  int64_t repetitions = 5;
  std::string output = "md";
  RopeOptions rope;  // --no-mmap, -v and the --rope-* overrides
};

// The model under test and its row's fixed columns.
struct BenchModel {
  std::unique_ptr<Model> model;
  BenchRow info;  // model, size, params, type, load_seconds
};


void check_range(const char* flag, int64_t value, int64_t low, int64_t high, const char* note = "") {
  if (value < low || value > high)
    fail("bench: ", flag, " must be between ", low, " and ", high, note, ", found ", value);
}

BenchModel load_files(const BenchArgs& args) {
  BenchModel m;
  m.model = Model::load(args.model_path, args.rope.load_options());
  const ModelInfo info = m.model->info();
  m.info.size = info.weight_bytes;
  m.info.params = info.parameters;
  m.info.type = info.weight_type;
  m.info.load_seconds = m.model->load_seconds();
  const std::filesystem::path path(args.model_path);
  m.info.model = (path.has_filename() ? path.filename() : path.parent_path().filename()).string();
  return m;
}

// --config's file, or the deepseek-moe-16b config built into the binary, with random weights.
BenchModel load_random(const BenchArgs& args) {
  BenchModel m;
  const std::string config_path = args.config_path.empty() ? kDefaultConfig : args.config_path;
  nlohmann::json config;
  std::string source = config_path;
  if (!args.config_path.empty()) {
    config = read_json_file(config_path);
  } else {
    const std::string_view text(kBenchDefaultConfigJson);
    source = std::string("the built-in ") + kDefaultConfig;
    config = parse_json_text(text.data(), text.data() + text.size(), source);
  }
  const auto layers = config.find("num_hidden_layers");  // a config without it is parse_model_config's to refuse
  const int64_t full_layers = layers != config.end() && layers->is_number_integer() ? layers->get<int64_t>() : 0;
  if (full_layers > 0) check_range("--layers", args.layers, 0, full_layers, " (0: all)");
  RandomModelLoadOptions options;
  options.dtype = args.dtype;
  options.layers = args.layers;
  options.rope = args.rope.overrides();
  if (options.dtype != "bf16" && options.dtype != "f16" && options.dtype != "f32") {
    fail("bench: --dtype must be bf16, f16 or f32, found '", args.dtype, "'");
  }
  m.model = Model::random(config, source, options);
  const ModelInfo info = m.model->info();
  m.info.size = info.weight_bytes;
  m.info.params = info.parameters;
  m.info.type = info.weight_type;
  m.info.load_seconds = m.model->load_seconds();
  // "deepseek-moe-16b-base", or the folder of a config.json: "dsmoe-kjv-9m".
  const std::filesystem::path config_file(config_path);
  std::ostringstream name;
  name << (config_file.stem() == "config" ? config_file.parent_path().filename() : config_file.stem()).string();
  if (info.num_hidden_layers < full_layers) name << " (" << info.num_hidden_layers << "/" << full_layers << " layers)";
  m.info.model = name.str();
  return m;
}

// One warm-up call, then `repetitions` timed ones; `prepare` (clearing the cache) runs untimed before each.
template <typename Prepare, typename Run>
std::vector<int64_t> time_runs(int64_t repetitions, Prepare&& prepare, Run&& run) {
  prepare();
  run();
  std::vector<int64_t> samples;
  for (int64_t r = 0; r < repetitions; ++r) {
    prepare();
    const auto start = std::chrono::steady_clock::now();
    run();
    samples.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
  }
  return samples;
}

int32_t argmax(const std::vector<float>& logits) {
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void validate(BenchArgs& args) {
  if (!args.model_path.empty() && !args.config_path.empty()) fail("bench: give -m MODEL or --config CONFIG, not both");
  if (!args.model_path.empty() && (args.rope.app->count("--layers") > 0 || args.rope.app->count("--dtype") > 0))
    fail("bench: --layers and --dtype apply to --config (random weights) only");
  if (args.output != "md" && args.output != "json" && args.output != "csv")
    fail("bench: -o must be md, json or csv, found '", args.output, "'");
  if (args.threads.empty()) args.threads.push_back(num_threads());
  auto positive = [](int64_t v) { return v > 0; };
  if (std::none_of(args.prompts.begin(), args.prompts.end(), positive) &&
      std::none_of(args.generates.begin(), args.generates.end(), positive))
    fail("bench: nothing to run: every -p and -n is 0");
}

int run_bench(BenchArgs& args) {
  validate(args);
  const BenchModel m = args.model_path.empty() ? load_random(args) : load_files(args);
  const ModelInfo config = m.model->info();
  const int64_t longest = *std::max_element(args.depths.begin(), args.depths.end()) +
                          std::max(*std::max_element(args.prompts.begin(), args.prompts.end()),
                                   *std::max_element(args.generates.begin(), args.generates.end()));
  Session session(*m.model, 1, longest, parse_cache_type_name(args.rope.cache_type, "--cache-type"));
  if (args.rope.verbose) {
    std::cerr << "bench: " << m.info.model << " (" << m.model->description() << "), " << bench_size_text(m.info.size)
              << " of weights, loaded in " << int64_t(m.info.load_seconds * 1e3) << " ms; KV cache of " << longest
              << " positions " << bench_size_text(int64_t(session.cache_bytes())) << "; resident "
              << bench_size_text(resident_bytes()) << "\n";
    std::cerr << m.model->describe_rope(longest) << "\n";
  }

  ForwardOptions last_only;
  last_only.all_logits = false;
  ForwardResult result;
  const int32_t first_token = int32_t(config.bos_token_id.value_or(0) % config.vocab_size);
  const bool deep = std::any_of(args.depths.begin(), args.depths.end(), [](int64_t d) { return d > 0; });
  BenchPrinter printer(std::cout,
                       args.output == "json"  ? BenchFormat::kJson
                       : args.output == "csv" ? BenchFormat::kCsv
                                              : BenchFormat::kMarkdown,
                       deep);
  auto random_tokens = [&](int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> draw(0, int32_t(config.vocab_size - 1));
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (int32_t& t : tokens) t = draw(rng);
    return tokens;
  };
  const std::vector<int32_t> depth_tokens =
      random_tokens(*std::max_element(args.depths.begin(), args.depths.end()), 4321);
  int64_t depth_filled = 0;  // the cache's first depth_filled positions hold depth_tokens' first ones
  // The cache holding exactly the first `depth` depth tokens: cut back to them, or extended (untimed).
  auto reach_depth = [&](int64_t depth) {
    depth_filled = std::min(depth_filled, std::min(depth, session.position()));
    if (depth == 0) {
      session.reset();
      return;
    }
    session.truncate(depth_filled);
    if (depth_filled < depth) {
      session.forward({depth_tokens.begin() + depth_filled, depth_tokens.begin() + depth}, last_only, result);
      depth_filled = depth;
    }
  };
  // One test: timed from the cache at `depth`, then printed with the memory it leaves.
  auto measure = [&](int64_t threads, int64_t depth, int64_t n_prompt, int64_t n_gen, auto&& run) {
    BenchRow row = m.info;
    row.threads = int(threads);
    row.n_prompt = n_prompt;
    row.n_gen = n_gen;
    row.n_depth = depth;
    row.samples_ns = time_runs(args.repetitions, [&] { reach_depth(depth); }, run);
    row.kv_bytes = int64_t(session.cache_bytes() / size_t(session.context())) * (row.n_depth + row.tokens());
    row.resident_bytes = resident_bytes();
    printer.row(row);
  };
  printer.begin();
  for (const int64_t threads : args.threads) {
    set_num_threads(int(threads));
    for (const int64_t depth : args.depths) {
      for (const int64_t n_prompt : args.prompts) {
        if (n_prompt == 0) continue;
        const std::vector<int32_t> tokens = random_tokens(n_prompt, uint32_t(1234 + n_prompt));
        measure(threads, depth, n_prompt, 0, [&] { session.forward(tokens, last_only, result); });
      }
      for (const int64_t n_gen : args.generates) {
        if (n_gen == 0) continue;
        measure(threads, depth, 0, n_gen, [&] {
          std::vector<int32_t> token{first_token};
          for (int64_t i = 0; i < n_gen; ++i) {
            session.forward(token, last_only, result);
            token[0] = argmax(result.logits);
          }
        });
      }
    }
  }
  printer.end();
  if (args.rope.verbose) std::cerr << "bench: peak resident memory " << bench_size_text(peak_resident_bytes()) << "\n";
  return 0;
}

}  // namespace

Handler add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  app.add_option("-m,--model", args->model_path, "model: an HF folder or a .gguf file");
  app.add_option("--config", args->config_path,
                 std::string("random weights at a config.json's shape (without -m: ") + kDefaultConfig + ")");
  app.add_option("--layers", args->layers, "--config: keep only the first N decoder layers (memory)")
      ->check(integer_in(0, 100000));
  app.add_option("--dtype", args->dtype, "--config: weight dtype bf16, f16 or f32")->capture_default_str();
  app.add_option("-p,--n-prompt", args->prompts, "prompt lengths, comma separated (0: none)")
      ->check(integer_in(0, kBenchMaxTokens))
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-n,--n-gen", args->generates, "generation lengths, comma separated (0: none)")
      ->check(integer_in(0, kBenchMaxTokens))
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-d,--n-depth", args->depths, "positions already in the KV cache, comma separated")
      ->check(integer_in(0, kBenchMaxTokens))
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("-t,--threads", args->threads, "thread counts, comma separated (default: dsmoe's -t, or all cores)")
      ->check(thread_count(1))
      ->delimiter(',');
  app.add_option("-r,--repetitions", args->repetitions, "timed runs of each test")->check(integer_in(1, 10000))->capture_default_str();
  app.add_option("-o,--output", args->output, "md, json or csv")->capture_default_str();
  add_rope_options(app, args->rope);
  return [args] { return run_bench(*args); };
}

}  // namespace dsmoe::cli
