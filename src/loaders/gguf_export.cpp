#include "loaders/gguf_export.h"

#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "io/gguf_writer.h"
#include "loaders/gguf_names.h"
#include "quant/quantize.h"

namespace dsmoe {
namespace {

// One tensor of the file: a single model tensor, or a layer's routed experts stacked [n_experts, out, in].
struct FileTensor {
  std::string name;
  WeightSpec spec;        // for stacks: expert 0's spec
  int64_t n_stacked = 0;  // experts in the stack; 0 for a plain tensor
  DType dtype = DType::F32;
  std::vector<int64_t> shape() const {
    std::vector<int64_t> s = spec.shape;
    if (n_stacked > 0) s.insert(s.begin(), n_stacked);
    return s;
  }
};

std::vector<FileTensor> plan_file_tensors(const ModelConfig& config, FileType type) {
  std::vector<FileTensor> tensors;
  for (const WeightSpec& spec : weight_specs(config)) {
    if (is_stacked_expert(spec.key.role) && spec.key.expert > 0) continue;  // stacked with expert 0
    FileTensor t;
    t.name = gguf_tensor_name(spec.key);
    t.spec = spec;
    t.n_stacked = is_stacked_expert(spec.key.role) ? config.n_routed_experts : 0;
    t.dtype = tensor_storage_type(type, config, spec.key.role, spec.key.layer, spec.shape.back());
    tensors.push_back(std::move(t));
  }
  return tensors;
}

void add_config_metadata(GgufWriter& out, const ModelConfig& c, const GgufExportOptions& options) {
  const std::string arch = c.architecture == Architecture::kDeepseek ? "deepseek" : "llama";
  auto key = [&](const char* name) { return arch + "." + name; };
  auto u32 = [](int64_t v) { return GgufValue::uint32(uint32_t(v)); };
  out.add("general.architecture", GgufValue::string(arch));
  out.add("general.name", GgufValue::string(options.name.empty() ? "dsmoe model" : options.name));
  out.add("general.file_type", GgufValue::uint32(file_type_info(options.file_type).llama_ftype));
  if (is_block_format(file_type_info(options.file_type).base)) out.add("general.quantization_version", u32(2));
  out.add(key("vocab_size"), u32(c.vocab_size));
  out.add(key("context_length"), u32(c.max_position_embeddings));
  out.add(key("embedding_length"), u32(c.hidden_size));
  out.add(key("block_count"), u32(c.num_hidden_layers));
  out.add(key("feed_forward_length"), u32(c.intermediate_size));
  out.add(key("attention.head_count"), u32(c.num_attention_heads));
  out.add(key("attention.head_count_kv"), u32(c.num_key_value_heads));
  if (c.head_dim * c.num_attention_heads != c.hidden_size) {
    out.add(key("attention.key_length"), u32(c.head_dim));
    out.add(key("attention.value_length"), u32(c.head_dim));
  }
  out.add(key("attention.layer_norm_rms_epsilon"), GgufValue::float32(float(c.rms_norm_eps)));
  out.add(key("rope.freq_base"), GgufValue::float32(float(c.rope_theta)));
  out.add(key("rope.dimension_count"), u32(c.rotary_dim));
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeScalingType::kNone) {
    out.add(key("rope.scaling.type"), GgufValue::string("none"));
  } else {
    out.add(key("rope.scaling.type"), GgufValue::string(s.type == RopeScalingType::kLinear ? "linear" : "yarn"));
    out.add(key("rope.scaling.factor"), GgufValue::float32(float(s.factor)));
    if (s.original_max_position_embeddings > 0)
      out.add(key("rope.scaling.original_context_length"), u32(s.original_max_position_embeddings));
    if (s.type == RopeScalingType::kYarn) {
      out.add(key("rope.scaling.yarn_beta_fast"), GgufValue::float32(float(s.beta_fast)));
      out.add(key("rope.scaling.yarn_beta_slow"), GgufValue::float32(float(s.beta_slow)));
      if (s.attention_factor) out.add(key("rope.scaling.attn_factor"), GgufValue::float32(float(*s.attention_factor)));
    }
  }
  if (c.architecture == Architecture::kDeepseek && c.n_routed_experts > 0) {
    out.add(key("leading_dense_block_count"), u32(c.first_k_dense_replace));
    out.add(key("expert_feed_forward_length"), u32(c.moe_intermediate_size));
    out.add(key("expert_count"), u32(c.n_routed_experts));
    out.add(key("expert_used_count"), u32(c.num_experts_per_tok));
    out.add(key("expert_shared_count"), u32(c.n_shared_experts));
    out.add(key("expert_weights_scale"), GgufValue::float32(1.0f));
  }
}

void add_vocabulary(GgufWriter& out, const GgufVocabulary& v) {
  if (v.tokens.empty()) return;
  out.add("tokenizer.ggml.model", GgufValue::string(v.model));
  if (!v.pre.empty()) out.add("tokenizer.ggml.pre", GgufValue::string(v.pre));
  out.add("tokenizer.ggml.tokens", GgufValue::string_array(v.tokens));
  if (!v.scores.empty()) out.add("tokenizer.ggml.scores", GgufValue::float32_array(v.scores));
  if (!v.token_types.empty()) out.add("tokenizer.ggml.token_type", GgufValue::int32_array(v.token_types));
  if (!v.merges.empty()) out.add("tokenizer.ggml.merges", GgufValue::string_array(v.merges));
  auto id = [&](const char* key, const std::optional<int64_t>& value) {
    if (value) out.add(key, GgufValue::uint32(uint32_t(*value)));
  };
  id("tokenizer.ggml.bos_token_id", v.bos_id);
  id("tokenizer.ggml.eos_token_id", v.eos_id);
  id("tokenizer.ggml.unknown_token_id", v.unknown_id);
  id("tokenizer.ggml.padding_token_id", v.padding_id);
  if (v.add_bos) out.add("tokenizer.ggml.add_bos_token", GgufValue::bool_(*v.add_bos));
  if (v.add_eos) out.add("tokenizer.ggml.add_eos_token", GgufValue::bool_(*v.add_eos));
  if (!v.chat_template.empty()) out.add("tokenizer.chat_template", GgufValue::string(v.chat_template));
}

}  // namespace

void permute_rows_for_interleaved_rope(float* rows, int64_t n_heads, int64_t head_dim, int64_t cols) {
  const int64_t half = head_dim / 2;
  std::vector<float> head(size_t(head_dim * cols));
  for (int64_t h = 0; h < n_heads; ++h) {
    float* block = rows + h * head_dim * cols;
    std::copy(block, block + head_dim * cols, head.begin());
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const float* src = head.data() + (j * half + i) * cols;
        std::copy(src, src + cols, block + (2 * i + j) * cols);
      }
    }
  }
}

void check_gguf_expressible(const ModelConfig& c) {
  if (c.architecture == Architecture::kDeepseek && c.n_routed_experts > 0) {
    if (c.moe_layer_freq != 1)
      fail("moe_layer_freq ", c.moe_layer_freq,
           " cannot be written as GGUF: llama.cpp's deepseek graph makes every layer "
           "after leading_dense_block_count a MoE layer");
    if (c.norm_topk_prob)
      fail("norm_topk_prob true cannot be written as GGUF: llama.cpp's deepseek graph does not renormalise");
  }
  if (c.rotary_dim != c.head_dim)
    fail("partial rotary (rotary dim ", c.rotary_dim, " of head dim ", c.head_dim, ") is not written as GGUF yet");
  const RopeScalingType t = c.rope_scaling.type;
  if (t != RopeScalingType::kNone && t != RopeScalingType::kLinear && t != RopeScalingType::kYarn)
    fail("this RoPE scaling type cannot be written as GGUF by dsmoe (supported: none, linear, yarn)");
}

void write_gguf_model(const std::string& path, const ModelConfig& config, const GgufVocabulary& vocab,
                      const TensorValues& values, const GgufExportOptions& options) {
  check_gguf_expressible(config);
  const std::vector<FileTensor> tensors = plan_file_tensors(config, options.file_type);
  GgufWriter out(path);
  add_config_metadata(out, config, options);
  add_vocabulary(out, vocab);
  uint64_t total = 0;
  for (const FileTensor& t : tensors) {
    out.add_tensor(t.name, t.dtype, t.shape());
    total += uint64_t(TensorView{t.dtype, t.shape(), nullptr}.bytes());
  }
  out.write_header();

  std::vector<float> floats;
  std::vector<unsigned char> bytes;
  uint64_t written = 0;
  for (const FileTensor& t : tensors) {
    const int64_t rows_each = t.spec.shape.size() == 2 ? t.spec.shape[0] : 1;
    const int64_t cols = t.spec.shape.back();
    const int64_t n_parts = std::max<int64_t>(t.n_stacked, 1);
    const size_t row_bytes = dtype_row_bytes(t.dtype, cols);
    floats.resize(size_t(rows_each * cols));
    bytes.resize(size_t(n_parts * rows_each) * row_bytes);
    for (int64_t part = 0; part < n_parts; ++part) {
      WeightSpec spec = t.spec;
      if (t.n_stacked > 0) spec.key.expert = part;
      values(spec, floats.data());
      if (!options.values_interleaved && (spec.key.role == WeightRole::kQuery || spec.key.role == WeightRole::kKey)) {
        const int64_t heads =
            spec.key.role == WeightRole::kQuery ? config.num_attention_heads : config.num_key_value_heads;
        permute_rows_for_interleaved_rope(floats.data(), heads, config.head_dim, cols);
      }
      quantize_rows(t.dtype, floats.data(), bytes.data() + size_t(part * rows_each) * row_bytes, rows_each, cols);
    }
    out.write_tensor(t.name, bytes.data(), bytes.size());
    written += bytes.size();
    if (options.progress) options.progress(written, total);
  }
  out.finish();
}

}  // namespace dsmoe
