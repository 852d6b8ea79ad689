// The dsmoe library API: load a HuggingFace checkpoint directory, run forward passes with a KV cache.
//
//   auto model = dsmoe::Model::load("models/tiny");
//   dsmoe::Session session(*model, /*batch=*/1, /*context=*/512);
//   dsmoe::ForwardResult r = session.forward({1, 2, 3});     // prefill
//   r = session.forward({r_next_token});                       // decode one token
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dsmoe/error.h"
#include "dsmoe/forward.h"
#include "dsmoe/threads.h"

namespace dsmoe {

class Tokenizer;
class KvCache;       // internal: the cache behind a Session
class ModelAccess;   // internal: the library's own access to a Model's configuration and layers

// What the command line may change of a file's RoPE (llama.cpp's --rope-* and --yarn-* flags). Unset fields keep
// the file's value.
struct RopeOverrides {
  std::optional<std::string> scaling;  // none, linear, dynamic, yarn, llama3 (longrope only as the file gives it)
  std::optional<double> scale;         // the scaling factor s
  std::optional<double> freq_base;     // rope_theta
  std::optional<int64_t> original_context;  // L0, original_max_position_embeddings
  std::optional<double> beta_fast;
  std::optional<double> beta_slow;
  std::optional<double> attn_factor;            // YaRN attention factor on cos/sin
  std::optional<std::string> dynamic_policy;    // "grow" (HF, default) or "fixed" (at the session's context)
};

// How a session stores its keys and values (llama.cpp's --cache-type-k/-v). F16, the default as in llama.cpp,
// halves F32's memory and moves logits by about 1e-3 relative; F32 is exactly HF's float32 computation.
enum class CacheType { kF32, kF16, kBF16, kQ8_0 };

// "f32", "f16", "bf16" or "q8_0"; anything else is an error naming `flag`.
CacheType parse_cache_type_name(const std::string& name, const std::string& flag);
const char* cache_type_name(CacheType type);

// Where the weights live. Read into memory on transparent huge pages, decoding is about 1.35x faster than from the
// memory-mapped file (fewer TLB misses; docs/performance.md) but loading reads the whole file first. kAuto reads
// when the weights take at most half of the memory available, and maps them otherwise.
enum class WeightMemory { kAuto, kMap, kRead };

// Model::random: random weights at a config's shape, for speed tests without the real weights.
struct RandomModelLoadOptions {
  std::string dtype = "bf16";  // bf16, f16 or f32
  int64_t layers = 0;          // keep only the first `layers` decoder layers (memory); 0: all of them
  uint64_t seed = 1234;
  RopeOverrides rope;
  CacheType cache_type = CacheType::kF16;
};

struct LoadOptions {
  RopeOverrides rope;
  WeightMemory weights = WeightMemory::kAuto;  // --mmap: kMap, --no-mmap: kRead
  CacheType cache_type = CacheType::kF16;  // the KV cache type of sessions on this model unless they say otherwise
};

// What a model is, in plain numbers (config.json's names).
struct ModelInfo {
  std::string model_type;  // "deepseek", "llama"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;  // after --rope-* overrides: the context a session gets by default
  int64_t n_routed_experts = 0;         // 0 for a dense model
  int64_t num_experts_per_tok = 0;
  int64_t n_shared_experts = 0;
  double rope_theta = 0;
  std::string rope_scaling;  // "none", "linear", "dynamic", "yarn", "llama3", "longrope"
  // The context the model was trained on: rope_scaling's original_max_position_embeddings when the file gives
  // one, else max_position_embeddings.
  int64_t trained_context = 0;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  int64_t parameters = 0;         // every weight
  int64_t active_parameters = 0;  // the weights one token runs through (shared and top-k routed experts)
  int64_t weight_bytes = 0;     // the weights as stored (file or memory)
  std::string weight_type;      // a GGUF's file type ("Q4_K_M"), else the one dtype of the weights ("BF16"), or "mixed"
  std::vector<std::string> unused_config_keys;  // config.json keys dsmoe does not read (noted, not fatal)
};

class Model {
 public:
  // An HF folder (config.json, model.safetensors or the shards of model.safetensors.index.json, tokenizer.json)
  // or one GGUF file (llama.cpp's layout, any of dsmoe's weight formats, the tokenizer inside).
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});
  // A model of `config` (config.json's content) whose weights are drawn at random into memory, without a
  // tokenizer (dsmoe bench). `config_name` names the config in errors and in description().
  static std::unique_ptr<Model> random(const nlohmann::json& config, const std::string& config_name,
                                       const RandomModelLoadOptions& options = {});
  ~Model();

  ModelInfo info() const;
  // The RoPE numbers a session of `context` positions uses, in words (pairing, rotary dim, base, scaling and
  // its derived factors): what -v prints.
  std::string describe_rope(int64_t context) const;
  const std::string& directory() const;  // the path given to load (a folder or a .gguf file)
  const std::string& path() const;
  const std::string& description() const;  // the format in words: "GGUF v3, file type 15, 291 tensors"
  bool is_gguf() const;
  const Tokenizer* tokenizer() const;               // null when the model has none
  const nlohmann::json& generation_config() const;  // HF generation_config.json; an empty object otherwise
  double load_seconds() const;
  CacheType cache_type() const;  // LoadOptions::cache_type

 private:
  friend class ModelAccess;
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One conversation state: the KV cache of `batch` rows of at most `context` positions.
class Session {
 public:
  Session(const Model& model, int64_t batch, int64_t context);  // the model's cache type
  Session(const Model& model, int64_t batch, int64_t context, CacheType cache_type);
  ~Session();

  // tokens [batch, n_new], row-major, continue each row from position(). Throws dsmoe::Error.
  ForwardResult forward(const std::vector<int32_t>& tokens, const ForwardOptions& options = {});
  // The same into `result`, reusing its buffers (a decode loop then allocates nothing).
  void forward(const std::vector<int32_t>& tokens, const ForwardOptions& options, ForwardResult& result);
  // Continuous batching: one new token for each session (all of one model, one row each, each at its own
  // position) in one forward pass that reads the weights once. result.logits is [sessions.size(), vocab]; each
  // session's row is bit for bit what its own forward() would give, and each advances one position.
  static void forward_together(std::span<Session* const> sessions, std::span<const int32_t> tokens,
                               ForwardResult& result);
  size_t cache_bytes() const;
  CacheType cache_type() const;
  int64_t position() const;
  int64_t context() const;
  void reset();
  void truncate(int64_t length);  // forget positions >= length (they are overwritten by the next forward)

 private:
  const Model& model_;
  CacheType cache_type_;
  std::unique_ptr<KvCache> cache_;
};

}  // namespace dsmoe
