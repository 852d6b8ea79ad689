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
#include <map>
#include <optional>
#include <random>
#include <sstream>

#include "bench_report.h"
#include "commands.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "generation_options.h"
#include "io/gguf_file.h"
#include "bench_default_config.h"
#include "io/json_file.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "loaders/model_files.h"
#include "loaders/quant_plan.h"
#include "loaders/random_weights.h"
#include "loaders/rope_config.h"
#include "model/config.h"
#include "model/model_stats.h"
#include "model/transformer.h"
#include "rope_options.h"
#include "flag_checks.h"

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

// The model under test, and the memory its weights point into (members destroyed after the transformer).
struct BenchModel {
  std::optional<ModelFiles> files;        // -m: the mapped (or read) files
  std::unique_ptr<RandomWeights> random;  // --config: weights drawn into memory
  std::unique_ptr<Transformer> transformer;
  std::string description;
  BenchRow info;  // model, size, params, type, load_seconds
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_range(const char* flag, int64_t value, int64_t low, int64_t high, const char* note = "") {
  if (value < low || value > high)
    fail("bench: ", flag, " must be between ", low, " and ", high, note, ", found ", value);
}

// --config's file, or the deepseek-moe-16b config built into the binary.
ModelConfig bench_config(const std::string& config_path) {
  if (!config_path.empty()) return load_model_config(config_path);
  const std::string_view text(kBenchDefaultConfigJson);
  const std::string source = std::string("the built-in ") + kDefaultConfig;
  return parse_model_config(parse_json_text(text.data(), text.data() + text.size(), source), source);
}

// llama-quantize's name of a GGUF's general.file_type ("Q4_K_M"); empty when absent or not one of ours.
std::string gguf_file_type(const std::string& path) {
  const GgufFile file(path);
  const GgufValue* value = file.find("general.file_type");
  if (value == nullptr) return {};
  const int64_t ftype = value->as_int64(file.key_context("general.file_type"));
  for (int t = 0; t <= int(FileType::kQ6_K); ++t) {
    const FileTypeInfo& info = file_type_info(FileType(t));
    if (int64_t(info.llama_ftype) != ftype) continue;
    std::string name(info.name);
    std::transform(name.begin(), name.end(), name.begin(), [](char c) { return char(std::toupper(c)); });
    return name;
  }
  return {};
}

BenchModel load_files(const BenchArgs& args) {
  BenchModel m;
  const auto start = std::chrono::steady_clock::now();
  m.files = open_model_files(args.model_path, open_options(args.rope.load_options().weights, args.model_path));
  ModelConfig config = m.files->config;
  apply_rope_overrides(config, args.rope.overrides());
  ModelWeights weights = bind_weights(config, *m.files->weights);
  std::map<std::string, int64_t> bytes_by_dtype;
  for (const WeightSpec& spec : weight_specs(config)) {
    const TensorView view = *m.files->weights->find(spec.key);  // bind_weights found every one
    bytes_by_dtype[std::string(dtype_name(view.dtype))] += int64_t(view.bytes());
    m.info.size += int64_t(view.bytes());
  }
  m.info.params = count_parameters(config).total;
  m.transformer = std::make_unique<Transformer>(std::move(config), std::move(weights));
  m.info.load_seconds = seconds_since(start);
  const std::filesystem::path path(args.model_path);
  m.info.model = (path.has_filename() ? path.filename() : path.parent_path().filename()).string();
  if (m.files->format == ModelFormat::kGguf) m.info.type = gguf_file_type(args.model_path);
  if (m.info.type.empty()) m.info.type = bytes_by_dtype.size() == 1 ? bytes_by_dtype.begin()->first : "mixed";
  m.description = m.files->description;
  return m;
}

BenchModel load_random(const BenchArgs& args) {
  BenchModel m;
  const auto start = std::chrono::steady_clock::now();
  const std::string config_path = args.config_path.empty() ? kDefaultConfig : args.config_path;
  ModelConfig config = bench_config(args.config_path);
  const int64_t full_layers = config.num_hidden_layers;
  check_range("--layers", args.layers, 0, full_layers, " (0: all)");
  if (args.layers > 0) config.num_hidden_layers = args.layers;
  apply_rope_overrides(config, args.rope.overrides());
  DType dtype{};
  if (args.dtype == "bf16")
    dtype = DType::BF16;
  else if (args.dtype == "f16")
    dtype = DType::F16;
  else if (args.dtype == "f32")
    dtype = DType::F32;
  else
    fail("bench: --dtype must be bf16, f16 or f32, found '", args.dtype, "'");
  m.random = std::make_unique<RandomWeights>(config, dtype, 1234);
  m.info.size = int64_t(m.random->bytes());
  m.info.params = count_parameters(config).total;
  m.info.type = std::string(dtype_name(dtype));
  // "deepseek-moe-16b-base", or the folder of a config.json: "dsmoe-kjv-9m".
  const std::filesystem::path config_file(config_path);
  std::ostringstream name;
  name << (config_file.stem() == "config" ? config_file.parent_path().filename() : config_file.stem()).string();
  if (config.num_hidden_layers < full_layers)
    name << " (" << config.num_hidden_layers << "/" << full_layers << " layers)";
  m.info.model = name.str();
  m.transformer = std::make_unique<Transformer>(config, bind_hf_weights(config, m.random->store()));
  m.info.load_seconds = seconds_since(start);
  m.description = "random weights of " + (args.config_path.empty() ? "the built-in " + config_path : config_path);
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
  const Transformer& model = *m.transformer;
  const ModelConfig& config = model.config();
  const int64_t longest = *std::max_element(args.depths.begin(), args.depths.end()) +
                          std::max(*std::max_element(args.prompts.begin(), args.prompts.end()),
                                   *std::max_element(args.generates.begin(), args.generates.end()));
  KvCache cache(config, 1, longest, cache_dtype(parse_cache_type_name(args.rope.cache_type, "--cache-type")));
  if (args.rope.verbose) {
    std::cerr << "bench: " << m.info.model << " (" << m.description << "), " << bench_size_text(m.info.size)
              << " of weights, loaded in " << int64_t(m.info.load_seconds * 1e3) << " ms; KV cache of " << longest
              << " positions " << bench_size_text(int64_t(cache.bytes())) << "; resident "
              << bench_size_text(resident_bytes()) << "\n";
    std::cerr << describe_rope(config, longest) << "\n";
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
    depth_filled = std::min(depth_filled, std::min(depth, cache.length()));
    if (depth == 0) {
      cache.clear();
      return;
    }
    cache.truncate(depth_filled);
    if (depth_filled < depth) {
      model.forward(depth_tokens.data() + depth_filled, 1, depth - depth_filled, cache, last_only, result);
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
    row.kv_bytes = int64_t(cache.bytes() / size_t(cache.capacity())) * (row.n_depth + row.tokens());
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
        measure(threads, depth, n_prompt, 0, [&] { model.forward(tokens.data(), 1, n_prompt, cache, last_only, result); });
      }
      for (const int64_t n_gen : args.generates) {
        if (n_gen == 0) continue;
        measure(threads, depth, 0, n_gen, [&] {
          int32_t token = first_token;
          for (int64_t i = 0; i < n_gen; ++i) {
            model.forward(&token, 1, 1, cache, last_only, result);
            token = argmax(result.logits);
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
