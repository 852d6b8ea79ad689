// dsmoe inspect: the forward pass as a tree of HF modules with the shapes entering and leaving each,
// parameter counts (total and active per token), weight bytes, KV-cache bytes.
#include <filesystem>
#include <iostream>
#include <map>

#include "commands.h"
#include "generation_options.h"
#include "core/errors.h"
#include "format.h"
#include "io/tensor_store.h"
#include "loaders/hf_config.h"
#include "loaders/model_files.h"
#include "model/config.h"
#include "model/model_stats.h"
#include "model/weights.h"
#include "flag_checks.h"

namespace dsmoe::cli {
namespace {

struct InspectArgs {
  std::string model_dir;
  std::string config_path;
  int64_t batch = 1;
  int64_t seq = 0;  // 0: max_position_embeddings
};

std::string dims(std::initializer_list<int64_t> d) { return shape_string(d.begin(), d.size()); }

void print_attention(const ModelConfig& c, int64_t B, int64_t S, const std::string& indent) {
  const int64_t H = c.hidden_size, D = c.head_dim;
  const int64_t heads = c.num_attention_heads, kv = c.num_key_value_heads;
  std::cout << indent << "├─ self_attn  " << (kv == heads ? "multi-head" : "grouped-query") << " attention, " << heads
            << " query heads, " << kv << " kv heads, head_dim " << D << "\n";
  const std::string in = indent + "│  ";
  std::cout << in << "├─ q_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.q_dim()}) << "  view q "
            << dims({B, heads, S, D}) << "\n";
  std::cout << in << "├─ k_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.kv_dim()}) << "  view k "
            << dims({B, kv, S, D}) << "\n";
  std::cout << in << "├─ v_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.kv_dim()}) << "  view v "
            << dims({B, kv, S, D}) << "\n";
  std::cout << in << "├─ rotary_emb  " << to_string(c.rope_pairing) << ", d=" << c.rotary_dim << " of " << D
            << ", theta=" << c.rope_theta << ", cos/sin " << dims({S, c.rotary_dim})
            << (c.rope_scaling.type != RopeScalingType::kNone
                    ? cat(", ", to_string(c.rope_scaling.type), " scaling x", c.rope_scaling.factor)
                    : std::string())
            << "\n";
  if (kv != heads)
    std::cout << in << "├─ repeat_kv  k, v " << dims({B, kv, S, D}) << " -> " << dims({B, heads, S, D}) << "\n";
  // In double: a long --seq makes B*H*S*S exceed int64.
  const double score_elems = double(B) * double(heads) * double(S) * double(S);
  std::cout << in << "├─ scores  q·kᵀ/sqrt(" << D << ") + causal mask " << dims({B, heads, S, S}) << "  a naive "
            << "implementation holds " << human_bytes(score_elems * 4) << " in F32, " << human_bytes(score_elems * 2)
            << " in F16; dsmoe keeps one row of " << S << " per thread\n";
  std::cout << in << "├─ softmax(scores) · v  " << dims({B, heads, S, D}) << " -> " << dims({B, S, c.q_dim()}) << "\n";
  std::cout << in << "└─ o_proj  " << dims({B, S, c.q_dim()}) << " -> " << dims({B, S, H}) << "\n";
}

void print_layer(const ModelConfig& c, int64_t first, int64_t last, bool moe, int64_t B, int64_t S, bool is_last) {
  const int64_t H = c.hidden_size;
  const std::string range = first == last ? cat(first) : cat(first, "..", last);
  std::cout << (is_last ? "│  └─ " : "│  ├─ ") << "layers." << range << "  DecoderLayer (" << (moe ? "MoE" : "dense")
            << ")";
  if (last > first) std::cout << " x" << (last - first + 1);
  std::cout << "  " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  const std::string indent = is_last ? "│     " : "│  │  ";
  std::cout << indent << "├─ input_layernorm  RMSNorm(" << H << ", eps=" << c.rms_norm_eps << ")\n";
  print_attention(c, B, S, indent);
  std::cout << indent << "├─ post_attention_layernorm  RMSNorm(" << H << ")\n";
  if (!moe) {
    std::cout << indent << "└─ mlp  SwiGLU " << dims({B, S, H}) << " -> gate, up " << dims({B, S, c.intermediate_size})
              << " -> down " << dims({B, S, H}) << "\n";
    return;
  }
  const int64_t T = B * S, k = c.num_experts_per_tok;
  std::cout << indent << "└─ mlp  DeepseekMoE " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  const std::string in = indent + "   ";
  std::cout << in << "├─ gate  " << dims({T, H}) << " -> logits " << dims({T, c.n_routed_experts})
            << " -> softmax, top-" << k << " -> routing " << dims({T, k})
            << (c.norm_topk_prob && k > 1 ? ", renormalised" : ", raw probabilities") << "\n";
  std::cout << in << "├─ experts.0.." << c.n_routed_experts - 1 << "  SwiGLU " << H << " -> " << c.moe_intermediate_size
            << " -> " << H << ", " << k << " of " << c.n_routed_experts << " per token; " << double(T) * double(k)
            << " token-expert pairs\n";
  if (c.n_shared_experts > 0) {
    std::cout << in << "└─ shared_experts  SwiGLU " << H << " -> " << c.shared_intermediate_size() << " -> " << H
              << " (" << c.n_shared_experts << " x " << c.moe_intermediate_size << "), every token\n";
  } else {
    std::cout << in << "└─ (no shared experts)\n";
  }
}

void print_tree(const ModelConfig& c, int64_t B, int64_t S) {
  const int64_t H = c.hidden_size;
  std::cout << (c.architecture == Architecture::kDeepseek ? "DeepseekForCausalLM" : "LlamaForCausalLM")
            << "  input ids " << dims({B, S}) << "\n";
  std::cout << "├─ model  " << (c.architecture == Architecture::kDeepseek ? "DeepseekModel" : "LlamaModel") << "\n";
  std::cout << "│  ├─ embed_tokens  Embedding(" << c.vocab_size << ", " << H << ")  " << dims({B, S}) << " -> "
            << dims({B, S, H}) << "\n";
  int64_t first = 0;
  for (int64_t i = 1; i <= c.num_hidden_layers; ++i) {
    if (i == c.num_hidden_layers || c.is_moe_layer(i) != c.is_moe_layer(first)) {
      print_layer(c, first, i - 1, c.is_moe_layer(first), B, S, false);
      first = i;
    }
  }
  std::cout << "│  └─ norm  RMSNorm(" << H << ")  " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  std::cout << "└─ lm_head  Linear(" << H << ", " << c.vocab_size << ")"
            << (c.tie_word_embeddings ? " tied to embed_tokens" : "") << "  " << dims({B, S, H}) << " -> logits "
            << dims({B, S, c.vocab_size}) << "\n";
}

void print_parameters(const ModelConfig& c) {
  const ParameterCounts p = count_parameters(c);
  std::cout << "\nParameters\n";
  std::cout << "  total                 " << with_commas(p.total) << "  (" << human_count(p.total) << ")\n";
  std::cout << "  active per token      " << with_commas(p.active_with_embedding) << "  ("
            << human_count(p.active_with_embedding) << ") counting the embedding, " << with_commas(p.active) << " ("
            << human_count(p.active) << ") without\n";
  const std::pair<const char*, int64_t> parts[] = {
      {"embed_tokens", p.embedding},        {"attention", p.attention}, {"norms", p.norms},
      {"dense MLPs", p.dense_mlp},          {"routers", p.routers},     {"routed experts", p.routed_experts},
      {"shared experts", p.shared_experts}, {"lm_head", p.lm_head}};
  for (const auto& [name, n] : parts) {
    std::cout << "    " << name << std::string(16 - std::string(name).size(), ' ') << with_commas(n) << "\n";
  }
}

void print_memory(const ModelConfig& c, const std::map<std::string, int64_t>& bytes_by_dtype, bool measured, int64_t B,
                  int64_t S) {
  std::cout << "\nWeight bytes" << (measured ? " (from the model files)" : " (as torch_dtype)") << "\n";
  int64_t total = 0;
  for (const auto& [dtype, bytes] : bytes_by_dtype) {
    std::cout << "  " << dtype << "  " << with_commas(bytes) << "  (" << human_bytes(bytes) << ")\n";
    total += bytes;
  }
  if (bytes_by_dtype.size() > 1) std::cout << "  all   " << with_commas(total) << "  (" << human_bytes(total) << ")\n";
  const int64_t per_token = kv_cache_bytes_per_token(c, 4);
  std::cout << "\nKV cache (keys after RoPE + values, " << c.num_hidden_layers << " layers x " << c.kv_dim() << ")\n";
  std::cout << "  per token  " << human_bytes(per_token) << " F32, " << human_bytes(per_token / 2) << " F16/BF16\n";
  std::cout << "  for " << dims({B, S}) << "  " << human_bytes(double(per_token) * double(B) * double(S)) << " F32, "
            << human_bytes(double(per_token) / 2 * double(B) * double(S)) << " F16/BF16\n";
  if (S > c.max_position_embeddings) {
    std::cout << "\nwarning: seq " << S << " exceeds max_position_embeddings " << c.max_position_embeddings
              << ": positions past training use RoPE angles the model never saw"
              << (c.rope_scaling.type == RopeScalingType::kNone ? " (no rope_scaling configured)" : "") << "\n";
  }
}

int run_inspect(const InspectArgs& args) {
  if (args.model_dir.empty() == args.config_path.empty())
    fail("inspect: give -m MODEL or --config FILE, not both");
  std::optional<ModelFiles> files;
  if (!args.model_dir.empty()) files = open_model_files(args.model_dir);
  const std::string config_path = !args.config_path.empty() ? args.config_path
                                  : files->format == ModelFormat::kGguf
                                      ? args.model_dir + " (GGUF metadata)"
                                      : (std::filesystem::path(args.model_dir) / "config.json").string();
  const ModelConfig config = files ? files->config : load_model_config(config_path);
  for (const auto& key : config.unknown_keys)
    std::cerr << "note: " << config_path << ": key '" << key << "' is not used\n";
  const int64_t S = args.seq > 0 ? args.seq : config.max_position_embeddings;
  if (args.batch <= 0 || args.batch > 65536) fail("inspect: --batch must be in [1, 65536]");
  if (args.seq < 0 || args.seq > (int64_t(1) << 31)) fail("inspect: --seq must be in [1, 2^31]");

  std::map<std::string, int64_t> bytes_by_dtype;
  const bool measured = !args.model_dir.empty();
  if (measured) {
    bind_weights(config, *files->weights);  // validates names and shapes
    for (const WeightSpec& spec : weight_specs(config)) {
      const std::optional<TensorView> view = files->weights->find(spec.key);
      bytes_by_dtype[std::string(dtype_name(view->dtype))] += int64_t(view->bytes());
    }
  } else {
    const DType dtype = config.torch_dtype.value_or(DType::F32);
    bytes_by_dtype[std::string(dtype_name(dtype))] = count_parameters(config).total * int64_t(dtype_size(dtype));
  }
  std::cout << "config: " << config_path << "  (model_type " << config.model_type << ", " << config.num_hidden_layers
            << " layers, " << moe_layer_count(config) << " MoE)\n\n";
  print_tree(config, args.batch, S);
  print_parameters(config);
  print_memory(config, bytes_by_dtype, measured, args.batch, S);
  return 0;
}

}  // namespace

// `dsmoe inspect rope`, in cmd_inspect_rope.cpp.
Handler add_inspect_rope_command(CLI::App& inspect);

Handler add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  app.add_option("-m,--model", args->model_dir, "model: a folder (config.json + safetensors) or a .gguf file (default: $DSMOE_MODEL, else the shipped model)");
  app.add_option("--config", args->config_path, "a config.json alone, no weights needed");
  app.add_option("--batch", args->batch, "batch size for the shapes shown")->check(integer_in(1, kMaxTokens));
  app.add_option("--seq", args->seq, "sequence length (default: max_position_embeddings)")
      ->check(token_count());
  // Without the `rope` subcommand, inspect is the module tree as it always was.
  const Handler rope = add_inspect_rope_command(app);
  const CLI::App* rope_app = app.get_subcommand("rope");
  return [args, rope, rope_app] {
    if (rope_app->parsed()) return rope();
    if (args->model_dir.empty() && args->config_path.empty()) args->model_dir = default_model_dir();
    return run_inspect(*args);
  };
}

}  // namespace dsmoe::cli
