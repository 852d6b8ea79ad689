#include "loaders/gguf_model.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/errors.h"
#include "loaders/gguf_names.h"
#include "loaders/quant_plan.h"

namespace dsmoe {
namespace {

// Reads "{arch}.name" keys with messages naming the file and key.
class MetadataReader {
 public:
  MetadataReader(const GgufFile& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

  std::string key(const std::string& name) const { return arch_ + "." + name; }
  bool has(const std::string& name) const { return file_.find(key(name)) != nullptr; }
  int64_t integer(const std::string& name) const {
    const std::string k = key(name);
    const int64_t value = file_.require(k).as_int64(file_.key_context(k));
    // As for config.json: no real dimension comes near 2^31, and the bound keeps products inside int64.
    if (value < 0 || value >= (int64_t(1) << 31))
      fail(file_.key_context(k), " = ", value, " is out of range [0, 2^31)");
    return value;
  }
  int64_t integer_or(const std::string& name, int64_t fallback) const { return has(name) ? integer(name) : fallback; }
  double number_or(const std::string& name, double fallback) const {
    const std::string k = key(name);
    return has(name) ? file_.require(k).as_double(file_.key_context(k)) : fallback;
  }
  std::string string_or(const std::string& name, const std::string& fallback) const {
    const std::string k = key(name);
    return has(name) ? file_.require(k).as_string(file_.key_context(k)) : fallback;
  }

 private:
  const GgufFile& file_;
  std::string arch_;
};

void read_rope_scaling(const MetadataReader& m, ModelConfig& c, const std::string& path) {
  const std::string type = m.string_or("rope.scaling.type", "none");
  RopeScaling& s = c.rope_scaling;
  if (type == "none") {
    s.type = RopeScalingType::kNone;
    return;
  }
  if (type == "linear") {
    s.type = RopeScalingType::kLinear;
  } else if (type == "yarn") {
    s.type = RopeScalingType::kYarn;
    s.beta_fast = m.number_or("rope.scaling.yarn_beta_fast", s.beta_fast);
    s.beta_slow = m.number_or("rope.scaling.yarn_beta_slow", s.beta_slow);
    if (m.has("rope.scaling.attn_factor")) s.attention_factor = m.number_or("rope.scaling.attn_factor", 1.0);
  } else {
    fail(path, ": metadata '", m.key("rope.scaling.type"), "' = '", type,
         "' is not supported (supported: none, linear, yarn)");
  }
  s.factor = m.number_or("rope.scaling.factor", 1.0);
  if (!(s.factor >= 1.0 && s.factor < 1e6))
    fail(path, ": metadata '", m.key("rope.scaling.factor"), "' = ", s.factor, " is not in [1, 1e6)");
  s.original_max_position_embeddings = m.integer_or("rope.scaling.original_context_length", 0);
}

}  // namespace

ModelConfig gguf_model_config(const GgufFile& file) {
  const std::string& path = file.path();
  const std::string arch = file.require("general.architecture").as_string(file.key_context("general.architecture"));
  ModelConfig c;
  if (arch == "deepseek") {
    c.architecture = Architecture::kDeepseek;
  } else if (arch == "llama") {
    c.architecture = Architecture::kLlama;
  } else {
    fail(path, ": general.architecture '", arch, "' is not supported (supported: deepseek, llama)");
  }
  c.model_type = arch;
  const MetadataReader m(file, arch);
  c.hidden_size = m.integer("embedding_length");
  c.num_hidden_layers = m.integer("block_count");
  c.max_position_embeddings = m.integer_or("context_length", 2048);
  c.num_attention_heads = m.integer("attention.head_count");
  c.num_key_value_heads = m.integer_or("attention.head_count_kv", c.num_attention_heads);
  if (c.num_attention_heads <= 0) fail(path, ": metadata '", m.key("attention.head_count"), "' must be positive");
  c.head_dim = m.integer_or("attention.key_length", c.hidden_size / c.num_attention_heads);
  if (m.integer_or("attention.value_length", c.head_dim) != c.head_dim)
    fail(path, ": metadata '", m.key("attention.value_length"),
         "' differs from the key length; dsmoe needs them equal");
  c.intermediate_size = m.integer_or("feed_forward_length", 0);
  c.rms_norm_eps = m.number_or("attention.layer_norm_rms_epsilon", 1e-6);
  c.rope_theta = m.number_or("rope.freq_base", 10000.0);
  c.rotary_dim = m.integer_or("rope.dimension_count", c.head_dim);
  // llama.cpp's converter permutes Q/K rows so that adjacent pairs rotate together ("NORM" RoPE).
  c.rope_pairing = RopePairing::kInterleaved;
  read_rope_scaling(m, c, path);

  // The vocabulary: the arch key when present, else the embedding's row count (what llama.cpp uses).
  if (m.has("vocab_size")) {
    c.vocab_size = m.integer("vocab_size");
  } else if (const GgufTensorInfo* embedding = file.find_tensor("token_embd.weight")) {
    c.vocab_size = embedding->view.shape.empty() ? 0 : embedding->view.shape.front();
  }
  c.tie_word_embeddings = file.find_tensor("output.weight") == nullptr;
  auto token_id = [&](const char* key) -> std::optional<int64_t> {
    if (const GgufValue* v = file.find(key)) return v->as_int64(file.key_context(key));
    return std::nullopt;
  };
  c.bos_token_id = token_id("tokenizer.ggml.bos_token_id");
  c.eos_token_id = token_id("tokenizer.ggml.eos_token_id");

  if (c.architecture == Architecture::kDeepseek) {
    c.n_routed_experts = m.integer_or("expert_count", 0);
    c.num_experts_per_tok = m.integer_or("expert_used_count", 0);
    c.n_shared_experts = m.integer_or("expert_shared_count", 0);
    c.first_k_dense_replace = m.integer_or("leading_dense_block_count", 0);
    c.moe_intermediate_size = m.integer_or("expert_feed_forward_length", 0);
    c.moe_layer_freq = 1;      // llama.cpp's deepseek graph: every layer past the leading dense ones is MoE
    c.norm_topk_prob = false;  // and the selected probabilities are not renormalised
    const double scale = m.number_or("expert_weights_scale", 1.0);
    if (scale != 0.0 && scale != 1.0)
      fail(path, ": metadata '", m.key("expert_weights_scale"), "' = ", scale,
           " is not supported (DeepSeek-MoE v1 uses 1)");
  } else if (m.integer_or("expert_count", 0) > 0) {
    fail(path, ": metadata '", m.key("expert_count"),
         "' > 0: mixture-of-experts llama files (Mixtral) are not supported");
  }
  if (file.find_tensor("rope_freqs.weight") != nullptr)
    fail(path, ": tensor 'rope_freqs.weight' (per-frequency RoPE factors, llama3-style) is not supported yet");
  validate_model_config(c, path);
  return c;
}

std::optional<TensorView> GgufWeightSource::find(const WeightKey& key) const {
  const GgufTensorInfo* info = file_->find_tensor(gguf_tensor_name(key));
  if (info == nullptr) return std::nullopt;
  if (!is_stacked_expert(key.role)) return info->view;
  // One expert of the stack [n_experts, out, in]: whole rows, so a pointer offset is the whole slice.
  const TensorView& stack = info->view;
  // A stack of the wrong shape is returned whole, so the binder's message shows it.
  if (stack.shape.size() != 3 || stack.shape[0] != n_experts_ || key.expert < 0 || key.expert >= n_experts_)
    return stack;
  TensorView slice;
  slice.dtype = stack.dtype;
  slice.shape = {stack.shape[1], stack.shape[2]};
  slice.data = static_cast<const unsigned char*>(stack.data) + size_t(key.expert) * slice.bytes();
  return slice;
}

std::string GgufWeightSource::tensor_name(const WeightKey& key) const {
  const std::string name = gguf_tensor_name(key);
  return is_stacked_expert(key.role) ? cat(name, "[", key.expert, "]") : name;
}

std::vector<std::string> GgufWeightSource::unused_tensors(const std::vector<WeightKey>& bound) const {
  std::set<std::string> used;
  for (const WeightKey& key : bound) used.insert(gguf_tensor_name(key));
  std::vector<std::string> extra;
  for (const GgufTensorInfo& info : file_->tensors()) {
    if (!used.count(info.name)) extra.push_back(info.name);
  }
  return extra;
}

}  // namespace dsmoe

namespace dsmoe {

GgufVocabulary gguf_vocabulary(const GgufFile& file) {
  GgufVocabulary vocab;
  auto where = [&](const char* key) { return file.key_context(key); };
  auto string_key = [&](const char* key, std::string* out) {
    if (const GgufValue* v = file.find(key)) *out = v->as_string(where(key));
  };
  auto id_key = [&](const char* key, std::optional<int64_t>* out) {
    if (const GgufValue* v = file.find(key)) *out = v->as_int64(where(key));
  };
  auto bool_key = [&](const char* key, std::optional<bool>* out) {
    if (const GgufValue* v = file.find(key)) *out = v->as_bool(where(key));
  };
  string_key("tokenizer.ggml.model", &vocab.model);
  string_key("tokenizer.ggml.pre", &vocab.pre);
  if (const GgufValue* v = file.find("tokenizer.ggml.tokens"))
    vocab.tokens = v->as_string_array(where("tokenizer.ggml.tokens"));
  if (const GgufValue* v = file.find("tokenizer.ggml.merges"))
    vocab.merges = v->as_string_array(where("tokenizer.ggml.merges"));
  if (const GgufValue* v = file.find("tokenizer.ggml.scores"))
    vocab.scores = v->as_float_array(where("tokenizer.ggml.scores"));
  if (const GgufValue* v = file.find("tokenizer.ggml.token_type")) {
    for (int64_t type : v->as_int64_array(where("tokenizer.ggml.token_type")))
      vocab.token_types.push_back(int32_t(type));
  }
  id_key("tokenizer.ggml.bos_token_id", &vocab.bos_id);
  id_key("tokenizer.ggml.eos_token_id", &vocab.eos_id);
  id_key("tokenizer.ggml.unknown_token_id", &vocab.unknown_id);
  id_key("tokenizer.ggml.padding_token_id", &vocab.padding_id);
  bool_key("tokenizer.ggml.add_bos_token", &vocab.add_bos);
  bool_key("tokenizer.ggml.add_eos_token", &vocab.add_eos);
  string_key("tokenizer.chat_template", &vocab.chat_template);
  return vocab;
}

ModelFiles open_gguf_model(const std::string& path, const OpenOptions& options) {
  auto file = std::make_unique<GgufFile>(path, options.use_mmap ? FileAccess::kMap : FileAccess::kReadIntoMemory);
  ModelFiles files;
  files.path = path;
  files.format = ModelFormat::kGguf;
  files.config = gguf_model_config(*file);
  const GgufVocabulary vocab = gguf_vocabulary(*file);
  files.gguf_vocabulary = vocab;
  if (!vocab.tokens.empty()) {
    files.tokenizer_json = tokenizer_json_from_gguf(vocab, path);
    files.tokenizer_config = tokenizer_config_from_gguf(vocab, path);
  }
  std::string file_type;
  if (const GgufValue* v = file->find("general.file_type")) {
    const int64_t ftype = v->as_int64(file->key_context("general.file_type"));
    file_type = cat(", file type ", ftype);
    for (int t = 0; t <= int(FileType::kQ6_K); ++t) {
      const FileTypeInfo& info = file_type_info(FileType(t));
      if (int64_t(info.llama_ftype) != ftype) continue;
      files.file_type = std::string(info.name);
      std::transform(files.file_type.begin(), files.file_type.end(), files.file_type.begin(),
                     [](unsigned char c) { return char(std::toupper(c)); });
      break;
    }
  }
  files.description = cat("GGUF v", file->version(), file_type, ", ", file->tensors().size(), " tensors");
  files.weights = std::make_unique<GgufWeightSource>(std::move(file), files.config.n_routed_experts);
  return files;
}

}  // namespace dsmoe
