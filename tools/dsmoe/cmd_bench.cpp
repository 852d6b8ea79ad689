// dsmoe bench: prefill and decode speed at a real model's shape with random weights (no download).
// --layers keeps the first N decoder layers so the 16B shape fits a small machine; per-layer cost
// is reported so the whole model's speed can be read off.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "core/errors.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "core/parallel.h"
#include "format.h"
#include "model/config.h"
#include "loaders/rope_config.h"
#include "rope_options.h"
#include "model/model_stats.h"
#include "loaders/random_weights.h"
#include "model/transformer.h"

namespace dsmoe::cli {
namespace {

struct BenchArgs {
  std::string config_path = "configs/deepseek-moe-16b-base.json";
  int64_t layers = 0;  // 0: all of the config's layers
  RopeOptions rope;
  std::string dtype = "bf16";
  int64_t prompt = 64;
  int64_t generate = 16;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int32_t argmax(const float* logits, int64_t n) { return int32_t(std::max_element(logits, logits + n) - logits); }

int run_bench(const BenchArgs& args) {
  ModelConfig config = load_model_config(args.config_path);
  const int64_t full_layers = config.num_hidden_layers;
  if (args.layers > 0) config.num_hidden_layers = std::min(args.layers, full_layers);
  apply_rope_overrides(config, args.rope.overrides());
  if (args.rope.verbose) std::cerr << describe_rope(config, args.prompt + args.generate) << "\n";
  DType dtype{};
  if (args.dtype == "bf16")
    dtype = DType::BF16;
  else if (args.dtype == "f16")
    dtype = DType::F16;
  else if (args.dtype == "f32")
    dtype = DType::F32;
  else
    fail("bench: --dtype must be bf16, f16 or f32, found '", args.dtype, "'");
  if (args.prompt <= 0 || args.generate < 0 || args.prompt + args.generate > (int64_t(1) << 24)) {
    fail("bench: -p must be positive, -n not negative, and together at most 2^24 tokens");
  }

  auto start = std::chrono::steady_clock::now();
  const RandomWeights random(config, dtype, 1234);
  const Transformer model(config, bind_hf_weights(config, random.store()));
  std::cout << "model   " << args.config_path << ", " << config.num_hidden_layers << " of " << full_layers
            << " layers, random " << args.dtype << " weights " << human_bytes(int64_t(random.bytes())) << " (made in "
            << seconds_since(start) << " s), " << num_threads() << " threads\n";

  KvCache cache(config, 1, args.prompt + args.generate);
  std::vector<int32_t> prompt(static_cast<size_t>(args.prompt));
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t((i * 7919 + 13) % size_t(config.vocab_size));
  ForwardOptions last_only;
  last_only.all_logits = false;
  ForwardResult result;
  start = std::chrono::steady_clock::now();
  model.forward(prompt.data(), 1, args.prompt, cache, last_only, result);
  const double prefill_s = seconds_since(start);
  std::cout << "prefill " << args.prompt << " tokens in " << prefill_s * 1e3
            << " ms: " << double(args.prompt) / prefill_s << " tokens/s\n";

  if (args.generate > 0) {
    int32_t token = argmax(result.logits.data(), config.vocab_size);
    start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < args.generate; ++i) {
      model.forward(&token, 1, 1, cache, last_only, result);
      token = argmax(result.logits.data(), config.vocab_size);
    }
    const double per_token = seconds_since(start) / double(args.generate);
    const ParameterCounts active = count_parameters(config);
    const double bytes_per_token = double(active.active) * double(dtype_size(dtype));
    std::cout << "decode  " << args.generate << " tokens: " << per_token * 1e3 << " ms/token, " << 1.0 / per_token
              << " tokens/s; weights read " << human_bytes(int64_t(bytes_per_token))
              << "/token = " << bytes_per_token / per_token / 1e9 << " GB/s\n";
  }
  return 0;
}

}  // namespace

Handler add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  app.add_option("--config", args->config_path, "config.json whose shape to run (default: the real 16B config)");
  app.add_option("--layers", args->layers, "keep only the first N decoder layers (memory)");
  add_rope_options(app, args->rope);
  app.add_option("--dtype", args->dtype, "weight dtype: bf16, f16, f32");
  app.add_option("-p,--prompt", args->prompt, "prompt tokens to prefill");
  app.add_option("-n,--generate", args->generate, "tokens to decode one at a time");
  return [args] { return run_bench(*args); };
}

}  // namespace dsmoe::cli
