#include "rope_options.h"

#include <iostream>


namespace dsmoe::cli {

LoadOptions RopeOptions::load_options() const {
  LoadOptions options;
  options.rope = overrides();
  options.weights = no_mmap ? WeightMemory::kRead : mmap ? WeightMemory::kMap : WeightMemory::kAuto;
  options.cache_type = parse_cache_type_name(cache_type, "--cache-type");
  return options;
}

void add_rope_options(CLI::App& app, RopeOptions& o) {
  o.app = &app;
  auto* no_mmap = app.add_flag("--no-mmap", o.no_mmap,
                               "read the weights into memory on transparent huge pages (decodes ~1.35x faster, loads "
                               "slower; the default when they leave a fifth of the available memory free)");
  app.add_flag("--mmap", o.mmap, "use the weights in place in the memory-mapped file (loads at once; the default for "
                                 "weights that would not leave a fifth of the available memory free)")
      ->excludes(no_mmap);
  app.add_option("--cache-type", o.cache_type,
                 "KV cache type: f16 (half of f32, llama.cpp's default), bf16, q8_0 (a quarter of f32), or f32 "
                 "(exactly HF's float32 computation: the default of logits, perplexity and passkey)")
      ->capture_default_str();
  const char* group = "RoPE (default: the model file's)";
  app.add_option("--rope-scaling", o.scaling, "none|linear|dynamic|yarn|llama3: RoPE scaling method")->group(group);
  app.add_option("--rope-scale", o.scale, "scaling factor s (usually the context length / the training length)")
      ->group(group);
  app.add_option("--rope-freq-base", o.freq_base, "RoPE base theta")->group(group);
  app.add_option("--yarn-orig-ctx", o.original_context,
                 "original (training) context L0 of yarn/llama3/longrope (default: max_position_embeddings)")
      ->group(group);
  app.add_option("--yarn-beta-fast", o.beta_fast, "YaRN: pairs turning more often than this in L0 keep their "
                                                  "frequency (default 32)")
      ->group(group);
  app.add_option("--yarn-beta-slow", o.beta_slow, "YaRN: pairs turning less often than this are interpolated "
                                                  "(default 1)")
      ->group(group);
  app.add_option("--yarn-attn-factor", o.attn_factor, "YaRN attention factor on cos/sin (default 0.1 ln s + 1)")
      ->group(group);
  app.add_option("--rope-dynamic", o.dynamic_policy,
                 "dynamic NTK with a KV cache: grow (HF: the base follows the cache's length, cached keys keep "
                 "theirs; default) or fixed (one base for the whole --ctx)")
      ->group(group);
  app.add_flag("-v,--verbose", o.verbose, "print the derived RoPE numbers at load");
}

RopeOverrides RopeOptions::overrides() const {
  RopeOverrides r;
  auto given = [&](const char* flag) { return app != nullptr && app->count(flag) > 0; };
  if (given("--rope-scaling")) r.scaling = scaling;
  if (given("--rope-scale")) r.scale = scale;
  if (given("--rope-freq-base")) r.freq_base = freq_base;
  if (given("--yarn-orig-ctx")) r.original_context = original_context;
  if (given("--yarn-beta-fast")) r.beta_fast = beta_fast;
  if (given("--yarn-beta-slow")) r.beta_slow = beta_slow;
  if (given("--yarn-attn-factor")) r.attn_factor = attn_factor;
  if (given("--rope-dynamic")) r.dynamic_policy = dynamic_policy;
  return r;
}

void report_rope(const Model& model, int64_t context, const RopeOptions& o) {
  if (!o.verbose) return;
  std::cerr << model.describe_rope(context) << "\n";
}

}  // namespace dsmoe::cli
