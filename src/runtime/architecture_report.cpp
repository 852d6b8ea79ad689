// architecture_report: the forward pass as a tree of HF modules with the shapes entering and leaving each,
// parameter counts (total and active per token), weight bytes and KV-cache bytes.
#include "dsmoe/architecture.h"

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "core/errors.h"
#include "dsmoe/number_format.h"
#include "io/tensor_store.h"
#include "loaders/hf_config.h"
#include "loaders/model_files.h"
#include "model/config.h"
#include "model/model_stats.h"
#include "model/weights.h"

namespace dsmoe {
namespace {

std::string dims(std::initializer_list<int64_t> d) { return shape_string(d.begin(), d.size()); }

void print_attention(std::ostream& out, const ModelConfig& c, int64_t B, int64_t S, const std::string& indent) {
  const int64_t H = c.hidden_size, D = c.head_dim;
  const int64_t heads = c.num_attention_heads, kv = c.num_key_value_heads;
  out << indent << "├─ self_attn  " << (kv == heads ? "multi-head" : "grouped-query") << " attention, " << heads
            << " query heads, " << kv << " kv heads, head_dim " << D << "\n";
  const std::string in = indent + "│  ";
  out << in << "├─ q_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.q_dim()}) << "  view q "
            << dims({B, heads, S, D}) << "\n";
  out << in << "├─ k_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.kv_dim()}) << "  view k "
            << dims({B, kv, S, D}) << "\n";
  out << in << "├─ v_proj  " << dims({B, S, H}) << " -> " << dims({B, S, c.kv_dim()}) << "  view v "
            << dims({B, kv, S, D}) << "\n";
  out << in << "├─ rotary_emb  " << to_string(c.rope_pairing) << ", d=" << c.rotary_dim << " of " << D
            << ", theta=" << c.rope_theta << ", cos/sin " << dims({S, c.rotary_dim})
            << (c.rope_scaling.type != RopeScalingType::kNone
                    ? cat(", ", to_string(c.rope_scaling.type), " scaling x", c.rope_scaling.factor)
                    : std::string())
            << "\n";
  if (kv != heads)
    out << in << "├─ repeat_kv  k, v " << dims({B, kv, S, D}) << " -> " << dims({B, heads, S, D}) << "\n";
  // In double: a long --seq makes B*H*S*S exceed int64.
  const double score_elems = double(B) * double(heads) * double(S) * double(S);
  out << in << "├─ scores  q·kᵀ/sqrt(" << D << ") + causal mask " << dims({B, heads, S, S}) << "  a naive "
            << "implementation holds " << human_bytes(score_elems * 4) << " in F32, " << human_bytes(score_elems * 2)
            << " in F16; dsmoe keeps one row of " << S << " per thread\n";
  out << in << "├─ softmax(scores) · v  " << dims({B, heads, S, D}) << " -> " << dims({B, S, c.q_dim()}) << "\n";
  out << in << "└─ o_proj  " << dims({B, S, c.q_dim()}) << " -> " << dims({B, S, H}) << "\n";
}

void print_layer(std::ostream& out, const ModelConfig& c, int64_t first, int64_t last, bool moe, int64_t B, int64_t S, bool is_last) {
  const int64_t H = c.hidden_size;
  const std::string range = first == last ? cat(first) : cat(first, "..", last);
  out << (is_last ? "│  └─ " : "│  ├─ ") << "layers." << range << "  DecoderLayer (" << (moe ? "MoE" : "dense")
            << ")";
  if (last > first) out << " x" << (last - first + 1);
  out << "  " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  const std::string indent = is_last ? "│     " : "│  │  ";
  out << indent << "├─ input_layernorm  RMSNorm(" << H << ", eps=" << c.rms_norm_eps << ")\n";
  print_attention(out, c, B, S, indent);
  out << indent << "├─ post_attention_layernorm  RMSNorm(" << H << ")\n";
  if (!moe) {
    out << indent << "└─ mlp  SwiGLU " << dims({B, S, H}) << " -> gate, up " << dims({B, S, c.intermediate_size})
              << " -> down " << dims({B, S, H}) << "\n";
    return;
  }
  const int64_t T = B * S, k = c.num_experts_per_tok;
  out << indent << "└─ mlp  DeepseekMoE " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  const std::string in = indent + "   ";
  out << in << "├─ gate  " << dims({T, H}) << " -> logits " << dims({T, c.n_routed_experts})
            << " -> softmax, top-" << k << " -> routing " << dims({T, k})
            << (c.norm_topk_prob && k > 1 ? ", renormalised" : ", raw probabilities") << "\n";
  out << in << "├─ experts.0.." << c.n_routed_experts - 1 << "  SwiGLU " << H << " -> " << c.moe_intermediate_size
            << " -> " << H << ", " << k << " of " << c.n_routed_experts << " per token; " << double(T) * double(k)
            << " token-expert pairs\n";
  if (c.n_shared_experts > 0) {
    out << in << "└─ shared_experts  SwiGLU " << H << " -> " << c.shared_intermediate_size() << " -> " << H
              << " (" << c.n_shared_experts << " x " << c.moe_intermediate_size << "), every token\n";
  } else {
    out << in << "└─ (no shared experts)\n";
  }
}

void print_tree(std::ostream& out, const ModelConfig& c, int64_t B, int64_t S) {
  const int64_t H = c.hidden_size;
  out << (c.architecture == Architecture::kDeepseek ? "DeepseekForCausalLM" : "LlamaForCausalLM")
            << "  input ids " << dims({B, S}) << "\n";
  out << "├─ model  " << (c.architecture == Architecture::kDeepseek ? "DeepseekModel" : "LlamaModel") << "\n";
  out << "│  ├─ embed_tokens  Embedding(" << c.vocab_size << ", " << H << ")  " << dims({B, S}) << " -> "
            << dims({B, S, H}) << "\n";
  int64_t first = 0;
  for (int64_t i = 1; i <= c.num_hidden_layers; ++i) {
    if (i == c.num_hidden_layers || c.is_moe_layer(i) != c.is_moe_layer(first)) {
      print_layer(out, c, first, i - 1, c.is_moe_layer(first), B, S, false);
      first = i;
    }
  }
  out << "│  └─ norm  RMSNorm(" << H << ")  " << dims({B, S, H}) << " -> " << dims({B, S, H}) << "\n";
  out << "└─ lm_head  Linear(" << H << ", " << c.vocab_size << ")"
            << (c.tie_word_embeddings ? " tied to embed_tokens" : "") << "  " << dims({B, S, H}) << " -> logits "
            << dims({B, S, c.vocab_size}) << "\n";
}

void print_parameters(std::ostream& out, const ModelConfig& c) {
  const ParameterCounts p = count_parameters(c);
  out << "\nParameters\n";
  out << "  total                 " << with_commas(p.total) << "  (" << human_count(p.total) << ")\n";
  out << "  active per token      " << with_commas(p.active_with_embedding) << "  ("
            << human_count(p.active_with_embedding) << ") counting the embedding, " << with_commas(p.active) << " ("
            << human_count(p.active) << ") without\n";
  const std::pair<const char*, int64_t> parts[] = {
      {"embed_tokens", p.embedding},        {"attention", p.attention}, {"norms", p.norms},
      {"dense MLPs", p.dense_mlp},          {"routers", p.routers},     {"routed experts", p.routed_experts},
      {"shared experts", p.shared_experts}, {"lm_head", p.lm_head}};
  for (const auto& [name, n] : parts) {
    out << "    " << name << std::string(16 - std::string(name).size(), ' ') << with_commas(n) << "\n";
  }
}

void print_memory(std::ostream& out, const ModelConfig& c, const std::map<std::string, int64_t>& bytes_by_dtype, bool measured, int64_t B,
                  int64_t S) {
  out << "\nWeight bytes" << (measured ? " (from the model files)" : " (as torch_dtype)") << "\n";
  int64_t total = 0;
  for (const auto& [dtype, bytes] : bytes_by_dtype) {
    out << "  " << dtype << "  " << with_commas(bytes) << "  (" << human_bytes(bytes) << ")\n";
    total += bytes;
  }
  if (bytes_by_dtype.size() > 1) out << "  all   " << with_commas(total) << "  (" << human_bytes(total) << ")\n";
  const int64_t per_token = kv_cache_bytes_per_token(c, 4);
  out << "\nKV cache (keys after RoPE + values, " << c.num_hidden_layers << " layers x " << c.kv_dim() << ")\n";
  out << "  per token  " << human_bytes(per_token) << " F32, " << human_bytes(per_token / 2) << " F16/BF16\n";
  out << "  for " << dims({B, S}) << "  " << human_bytes(double(per_token) * double(B) * double(S)) << " F32, "
            << human_bytes(double(per_token) / 2 * double(B) * double(S)) << " F16/BF16\n";
  if (S > c.max_position_embeddings) {
    out << "\nwarning: seq " << S << " exceeds max_position_embeddings " << c.max_position_embeddings
              << ": positions past training use RoPE angles the model never saw"
              << (c.rope_scaling.type == RopeScalingType::kNone ? " (no rope_scaling configured)" : "") << "\n";
  }
}

}  // namespace

ArchitectureReport architecture_report(const std::string& model_path, const std::string& config_path, int64_t batch,
                                       int64_t seq) {
  if (model_path.empty() == config_path.empty()) fail("architecture_report: give a model or a config.json, not both");
  if (batch <= 0 || batch > 65536) fail("inspect: --batch must be in [1, 65536]");
  if (seq < 0 || seq > (int64_t(1) << 31)) fail("inspect: --seq must be in [1, 2^31]");
  std::optional<ModelFiles> files;
  if (!model_path.empty()) files = open_model_files(model_path);
  ArchitectureReport report;
  report.config_name = !config_path.empty()                    ? config_path
                       : files->format == ModelFormat::kGguf ? model_path + " (GGUF metadata)"
                                                             : (std::filesystem::path(model_path) / "config.json").string();
  const ModelConfig config = files ? files->config : load_model_config(config_path);
  report.unused_config_keys = config.unknown_keys;
  const int64_t S = seq > 0 ? seq : config.max_position_embeddings;

  std::map<std::string, int64_t> bytes_by_dtype;
  const bool measured = files.has_value();
  if (measured) {
    bind_weights(config, *files->weights);  // validates names and shapes
    bytes_by_dtype = weight_bytes_by_dtype(config, *files->weights);
  } else {
    const DType dtype = config.torch_dtype.value_or(DType::F32);
    bytes_by_dtype[std::string(dtype_name(dtype))] = count_parameters(config).total * int64_t(dtype_size(dtype));
  }
  std::ostringstream out;
  out << "config: " << report.config_name << "  (model_type " << config.model_type << ", " << config.num_hidden_layers
      << " layers, " << moe_layer_count(config) << " MoE)\n\n";
  print_tree(out, config, batch, S);
  print_parameters(out, config);
  print_memory(out, config, bytes_by_dtype, measured, batch, S);
  report.text = out.str();
  return report;
}

}  // namespace dsmoe
