#include <chrono>
#include <map>

#include "core/errors.h"
#include "dsmoe/dsmoe.h"
#include "loaders/hf_config.h"
#include "loaders/hf_weights.h"
#include "loaders/model_files.h"
#include "loaders/random_weights.h"
#include "loaders/rope_config.h"
#include "model/model_access.h"
#include "model/model_stats.h"
#include "model/transformer.h"
#include "dsmoe/tokenizer.h"

namespace dsmoe {

struct Model::Impl {
  ModelFiles files;  // owns the mapped (or read) files the weights point into
  std::unique_ptr<RandomWeights> random;  // Model::random: the weights in memory
  int64_t weight_bytes = 0;
  std::string weight_type;
  std::unique_ptr<Transformer> transformer;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the model comes without one
  double load_seconds = 0;
  CacheType cache_type = CacheType::kF16;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  const OpenOptions open = open_options(options.weights, path);
  impl->files = open_model_files(path, open);
  ModelConfig config = impl->files.config;
  apply_rope_overrides(config, options.rope);
  ModelWeights weights = bind_weights(config, *impl->files.weights);
  // Weights read into memory are ours to rearrange: Q8_0, Q4_0, Q4_K and Q6_K matrices into the eight-row layout
  // their kernels read fastest (a mapped file stays as it is on disk).
  if (!open.use_mmap) interleave_matmul_weights(weights);
  const std::map<std::string, int64_t> bytes = weight_bytes_by_dtype(config, *impl->files.weights);
  for (const auto& [dtype, n] : bytes) impl->weight_bytes += n;
  impl->weight_type = !impl->files.file_type.empty() ? impl->files.file_type
                      : bytes.size() == 1            ? bytes.begin()->first
                                                     : "mixed";
  impl->transformer = std::make_unique<Transformer>(std::move(config), std::move(weights));
  if (!impl->files.tokenizer_json.is_null()) {
    nlohmann::json model_config = nlohmann::json::object();
    if (const auto& bos = impl->transformer->config().bos_token_id) model_config["bos_token_id"] = *bos;
    if (const auto& eos = impl->transformer->config().eos_token_id) model_config["eos_token_id"] = *eos;
    impl->tokenizer = Tokenizer::from_json(impl->files.tokenizer_json, impl->files.tokenizer_config, model_config);
  }
  impl->cache_type = options.cache_type;
  impl->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

std::unique_ptr<Model> Model::random(const nlohmann::json& config_json, const std::string& config_name,
                                     const RandomModelLoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ModelConfig config = parse_model_config(config_json, config_name);
  const int64_t layers = config.num_hidden_layers;
  if (options.layers < 0 || options.layers > layers) {
    fail(config_name, ": layers ", options.layers, " must be between 0 (all) and the config's ", layers);
  }
  if (options.layers > 0) config.num_hidden_layers = options.layers;
  apply_rope_overrides(config, options.rope);
  DType dtype{};
  if (!parse_dtype(options.dtype, &dtype) || (dtype != DType::BF16 && dtype != DType::F16 && dtype != DType::F32)) {
    fail("random weights: the dtype must be bf16, f16 or f32, found '", options.dtype, "'");
  }
  auto impl = std::make_unique<Impl>();
  impl->random = std::make_unique<RandomWeights>(config, dtype, options.seed);
  impl->weight_bytes = int64_t(impl->random->bytes());
  impl->weight_type = dtype_name(dtype);
  impl->files.path = config_name;
  impl->files.description = "random weights of " + config_name;
  impl->transformer = std::make_unique<Transformer>(config, bind_hf_weights(config, impl->random->store()));
  impl->cache_type = options.cache_type;
  impl->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const ModelConfig& ModelAccess::config(const Model& model) { return model.impl_->transformer->config(); }
const Transformer& ModelAccess::transformer(const Model& model) { return *model.impl_->transformer; }

std::string Model::describe_rope(int64_t context) const {
  return dsmoe::describe_rope(impl_->transformer->config(), context);
}

ModelInfo Model::info() const {
  const ModelConfig& c = impl_->transformer->config();
  const ParameterCounts counts = count_parameters(c);
  ModelInfo info;
  info.model_type = c.model_type;
  info.vocab_size = c.vocab_size;
  info.hidden_size = c.hidden_size;
  info.num_hidden_layers = c.num_hidden_layers;
  info.num_attention_heads = c.num_attention_heads;
  info.num_key_value_heads = c.num_key_value_heads;
  info.head_dim = c.head_dim;
  info.max_position_embeddings = c.max_position_embeddings;
  info.n_routed_experts = c.n_routed_experts;
  info.num_experts_per_tok = c.num_experts_per_tok;
  info.n_shared_experts = c.n_shared_experts;
  info.rope_theta = c.rope_theta;
  info.rope_scaling = to_string(c.rope_scaling.type);
  info.trained_context = c.rope_scaling.original_max_position_embeddings > 0
                             ? c.rope_scaling.original_max_position_embeddings
                             : c.max_position_embeddings;
  info.bos_token_id = c.bos_token_id;
  info.eos_token_id = c.eos_token_id;
  info.parameters = counts.total;
  info.active_parameters = counts.active;
  info.weight_bytes = impl_->weight_bytes;
  info.weight_type = impl_->weight_type;
  info.unused_config_keys = c.unknown_keys;
  return info;
}
const std::string& Model::directory() const { return impl_->files.path; }
const std::string& Model::path() const { return impl_->files.path; }
const std::string& Model::description() const { return impl_->files.description; }
bool Model::is_gguf() const { return impl_->files.format == ModelFormat::kGguf; }
const Tokenizer* Model::tokenizer() const { return impl_->tokenizer.get(); }
const nlohmann::json& Model::generation_config() const { return impl_->files.generation_config; }
double Model::load_seconds() const { return impl_->load_seconds; }
CacheType Model::cache_type() const { return impl_->cache_type; }

}  // namespace dsmoe
