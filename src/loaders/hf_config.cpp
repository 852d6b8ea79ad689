#include "loaders/hf_config.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "dsmoe/json_file.h"
#include "loaders/rope_config.h"

namespace dsmoe {
namespace {

// Keys HF's configs carry that inference does not use (training, generation, framework metadata).
const std::set<std::string> kIgnoredKeys = {"architectures",     "auto_map",
                                            "aux_loss_alpha",    "seq_aux",
                                            "attention_dropout", "initializer_range",
                                            "use_cache",         "transformers_version",
                                            "pretraining_tp",    "pad_token_id",
                                            "mlp_bias",          "_name_or_path",
                                            "output_attentions", "output_hidden_states",
                                            "return_dict",       "torchscript",
                                            "use_return_dict"};

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& json, std::string source) : json_(json), source_(std::move(source)) {}

  bool has(const std::string& key) {
    seen_.insert(key);
    return json_.contains(key) && !json_[key].is_null();
  }
  int64_t required_int(const std::string& key) {
    if (!has(key)) fail(source_, ": missing required key '", key, "'");
    return integer(key);
  }
  int64_t required_positive(const std::string& key) {
    const int64_t value = required_int(key);
    if (value <= 0) invalid(key, cat("must be positive, found ", value));
    return value;
  }
  int64_t optional_int(const std::string& key, int64_t fallback) { return has(key) ? integer(key) : fallback; }
  double optional_number(const std::string& key, double fallback) {
    if (!has(key)) return fallback;
    if (!json_[key].is_number()) fail(source_, ": key '", key, "' must be a number, found ", json_[key].dump());
    return json_[key].get<double>();
  }
  bool optional_bool(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    if (!json_[key].is_boolean()) fail(source_, ": key '", key, "' must be true or false, found ", json_[key].dump());
    return json_[key].get<bool>();
  }
  std::string optional_string(const std::string& key, const std::string& fallback) {
    if (!has(key)) return fallback;
    if (!json_[key].is_string()) fail(source_, ": key '", key, "' must be a string, found ", json_[key].dump());
    return json_[key].get<std::string>();
  }
  std::optional<int64_t> token_id(const std::string& key) {
    if (!has(key)) return std::nullopt;
    // Some configs list several end tokens; the first is the one generation stops on by default.
    if (json_[key].is_array() && !json_[key].empty() && json_[key][0].is_number_integer()) {
      return json_[key][0].get<int64_t>();
    }
    return integer(key);
  }
  const nlohmann::json& raw(const std::string& key) { return json_[key]; }
  std::vector<std::string> unseen_keys() const {
    std::vector<std::string> out;
    for (const auto& item : json_.items()) {
      if (!seen_.count(item.key()) && !kIgnoredKeys.count(item.key())) out.push_back(item.key());
    }
    return out;
  }
  [[noreturn]] void invalid(const std::string& key, const std::string& why) {
    fail(source_, ": invalid '", key, "': ", why);
  }

 private:
  int64_t integer(const std::string& key) {
    const auto& value = json_[key];
    if (!value.is_number_integer()) fail(source_, ": key '", key, "' must be an integer, found ", value.dump());
    // No real dimension comes near 2^31; the bound keeps every product of two sizes inside int64.
    constexpr int64_t kLimit = int64_t(1) << 31;
    if ((value.is_number_unsigned() && value.get<uint64_t>() >= uint64_t(kLimit)) ||
        (!value.is_number_unsigned() && (value.get<int64_t>() >= kLimit || value.get<int64_t>() <= -kLimit))) {
      fail(source_, ": key '", key, "' = ", value.dump(), " is out of range (|value| < 2^31)");
    }
    return value.get<int64_t>();
  }

  const nlohmann::json& json_;
  std::string source_;
  std::set<std::string> seen_;
};

void require_positive(ConfigReader& r, const std::string& key, int64_t value) {
  if (value <= 0) r.invalid(key, cat("must be positive, found ", value));
}

// rope_scaling, or transformers v5's rope_parameters (which also carries rope_theta).
void read_rope(ConfigReader& r, ModelConfig& c, const std::string& source) {
  c.rope_theta = r.optional_number("rope_theta", 10000.0);
  const char* key = r.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (r.has(key)) {
    const auto& json = r.raw(key);
    if (json.is_object() && json.contains("rope_theta") && json["rope_theta"].is_number()) {
      c.rope_theta = json["rope_theta"].get<double>();
    }
    c.rope_scaling = parse_rope_scaling(json, source, key, c.model_type, c.unknown_keys);
  }
  if (!(c.rope_theta > 1.0 && c.rope_theta < 1e30))
    r.invalid("rope_theta", cat("must be in (1, 1e30), found ", c.rope_theta));
  // Phi-3 keeps LongRoPE's L0 at the top level.
  if (r.has("original_max_position_embeddings") && c.rope_scaling.original_max_position_embeddings == 0) {
    c.rope_scaling.original_max_position_embeddings = r.optional_int("original_max_position_embeddings", 0);
    require_positive(r, "original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings);
  }
  // HF's DeepSeek-MoE v1 code rotates the whole head and never reads the key; Llama-family code does.
  const double partial =
      c.architecture == Architecture::kLlama ? r.optional_number("partial_rotary_factor", 1.0) : 1.0;
  if (!(partial > 0.0 && partial <= 1.0)) r.invalid("partial_rotary_factor", cat("must be in (0, 1], found ", partial));
  c.rotary_dim = int64_t(double(c.head_dim) * partial);  // int(head_dim * factor), as transformers
  if (c.rotary_dim < 2 || c.rotary_dim % 2 != 0) {
    r.invalid("partial_rotary_factor", cat("gives rotary dim ", c.rotary_dim, " of head_dim ", c.head_dim,
                                           "; it must be even and at least 2"));
  }
}

void read_moe(ConfigReader& r, ModelConfig& c) {
  c.n_routed_experts = r.optional_int("n_routed_experts", 0);
  c.n_shared_experts = r.optional_int("n_shared_experts", 0);
  c.moe_intermediate_size = r.optional_int("moe_intermediate_size", 1407);
  c.num_experts_per_tok = r.optional_int("num_experts_per_tok", 0);
  c.first_k_dense_replace = r.optional_int("first_k_dense_replace", 0);
  c.moe_layer_freq = r.optional_int("moe_layer_freq", 1);
  c.norm_topk_prob = r.optional_bool("norm_topk_prob", false);
  const std::string scoring = r.optional_string("scoring_func", "softmax");
  if (scoring != "softmax")
    r.invalid("scoring_func", cat("only 'softmax' is defined by DeepSeek-MoE, found '", scoring, "'"));
  if (c.n_routed_experts < 0) r.invalid("n_routed_experts", "must not be negative");
  if (c.n_shared_experts < 0) r.invalid("n_shared_experts", "must not be negative");
  require_positive(r, "moe_layer_freq", c.moe_layer_freq);
  if (c.first_k_dense_replace < 0) r.invalid("first_k_dense_replace", "must not be negative");
  if (c.n_routed_experts > 0) {
    require_positive(r, "moe_intermediate_size", c.moe_intermediate_size);
    require_positive(r, "num_experts_per_tok", c.num_experts_per_tok);
    if (c.num_experts_per_tok > c.n_routed_experts) {
      r.invalid("num_experts_per_tok", cat(c.num_experts_per_tok, " exceeds n_routed_experts ", c.n_routed_experts));
    }
  }
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& json, const std::string& source) {
  if (!json.is_object()) fail(source, ": config must be a JSON object");
  ConfigReader r(json, source);
  ModelConfig c;
  c.model_type = r.optional_string("model_type", "");
  if (c.model_type == "deepseek")
    c.architecture = Architecture::kDeepseek;
  else if (c.model_type == "llama")
    c.architecture = Architecture::kLlama;
  else
    r.invalid("model_type", cat("'", c.model_type, "' is not supported (supported: deepseek, llama)"));

  c.vocab_size = r.required_positive("vocab_size");
  c.hidden_size = r.required_positive("hidden_size");
  c.intermediate_size = r.required_positive("intermediate_size");
  c.num_hidden_layers = r.required_positive("num_hidden_layers");
  c.num_attention_heads = r.required_positive("num_attention_heads");
  c.num_key_value_heads = r.optional_int("num_key_value_heads", c.num_attention_heads);
  require_positive(r, "num_key_value_heads", c.num_key_value_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    r.invalid("num_key_value_heads",
              cat(c.num_key_value_heads, " does not divide num_attention_heads ", c.num_attention_heads));
  }
  // DeepSeek-MoE v1 always uses hidden_size / num_attention_heads; head_dim is a Llama key.
  if (c.architecture == Architecture::kLlama && r.has("head_dim")) {
    c.head_dim = r.optional_int("head_dim", 0);
    require_positive(r, "head_dim", c.head_dim);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      r.invalid("hidden_size", cat(c.hidden_size, " is not divisible by num_attention_heads ", c.num_attention_heads));
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) r.invalid("head_dim", cat("rotary embedding needs an even head_dim, found ", c.head_dim));

  c.max_position_embeddings = r.optional_int("max_position_embeddings", 2048);
  require_positive(r, "max_position_embeddings", c.max_position_embeddings);
  read_rope(r, c, source);
  c.rms_norm_eps = r.optional_number("rms_norm_eps", 1e-6);
  if (!(c.rms_norm_eps >= 0.0 && c.rms_norm_eps < 1.0))
    r.invalid("rms_norm_eps", cat("must be in [0, 1), found ", c.rms_norm_eps));
  c.attention_bias = r.optional_bool("attention_bias", false);
  if (c.attention_bias) r.invalid("attention_bias", "true is not supported yet");
  c.tie_word_embeddings = r.optional_bool("tie_word_embeddings", false);
  const std::string act = r.optional_string("hidden_act", "silu");
  if (act != "silu") r.invalid("hidden_act", cat("only 'silu' is supported, found '", act, "'"));
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");
  for (const char* key : {"bos_token_id", "eos_token_id"}) {
    const std::optional<int64_t>& id = std::string_view(key) == "bos_token_id" ? c.bos_token_id : c.eos_token_id;
    if (id && (*id < 0 || *id >= c.vocab_size)) {
      r.invalid(key, cat("must be a token id in [0, ", c.vocab_size, ") (vocab_size), found ", *id));
    }
  }
  const std::string dtype = r.optional_string("torch_dtype", "");
  if (dtype == "float32")
    c.torch_dtype = DType::F32;
  else if (dtype == "float16")
    c.torch_dtype = DType::F16;
  else if (dtype == "bfloat16")
    c.torch_dtype = DType::BF16;
  else if (!dtype.empty())
    r.invalid("torch_dtype", cat("'", dtype, "' is not one of float32, float16, bfloat16"));

  if (c.architecture == Architecture::kDeepseek) read_moe(r, c);
  const std::vector<std::string> unseen = r.unseen_keys();
  c.unknown_keys.insert(c.unknown_keys.end(), unseen.begin(), unseen.end());
  return c;
}

ModelConfig load_model_config(const std::string& config_path) {
  return parse_model_config(read_json_file(config_path), config_path);
}

}  // namespace dsmoe
