// The dsmoe library API: load a HuggingFace checkpoint directory, run forward passes with a KV cache.
//
//   auto model = dsmoe::Model::load("models/tiny");
//   dsmoe::Session session(*model, /*batch=*/1, /*context=*/512);
//   dsmoe::ForwardResult r = session.forward({1, 2, 3});     // prefill
//   r = session.forward({r_next_token});                       // decode one token
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsmoe/forward.h"

namespace dsmoe {

struct ModelConfig;
class Transformer;
class KvCache;

// n <= 0 uses every core. Results are bit-identical for any thread count.
void set_num_threads(int n);

class Model {
 public:
  // Reads DIR/config.json and DIR/model.safetensors (or the shards of model.safetensors.index.json).
  static std::unique_ptr<Model> load(const std::string& dir);
  ~Model();

  const ModelConfig& config() const;
  const Transformer& transformer() const;
  const std::string& directory() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One conversation state: the KV cache of `batch` rows of at most `context` positions.
class Session {
 public:
  Session(const Model& model, int64_t batch, int64_t context);
  ~Session();

  // tokens [batch, n_new], row-major, continue each row from position(). Throws dsmoe::Error.
  ForwardResult forward(const std::vector<int32_t>& tokens, const ForwardOptions& options = {});
  int64_t position() const;
  int64_t context() const;
  void reset();
  void truncate(int64_t length);  // forget positions >= length (they are overwritten by the next forward)

 private:
  const Model& model_;
  std::unique_ptr<KvCache> cache_;
};

}  // namespace dsmoe
