// HuggingFace checkpoints: the model's weight roles under HF's module names
// ("model.layers.3.mlp.experts.5.up_proj.weight"), over safetensors files or tensors held in memory.
#pragma once

#include <string>
#include <vector>

#include "io/tensor_store.h"
#include "model/weight_source.h"
#include "model/weights.h"

namespace dsmoe {

std::string hf_tensor_name(const WeightKey& key);

class HfWeightSource : public WeightSource {
 public:
  explicit HfWeightSource(const TensorSource& tensors) : tensors_(tensors) {}  // borrows `tensors`

  std::optional<TensorView> find(const WeightKey& key) const override;
  std::string tensor_name(const WeightKey& key) const override { return hf_tensor_name(key); }
  std::string origin(const WeightKey& key) const override;
  std::string origin_of(const std::string& tensor_name) const override { return tensors_.origin(tensor_name); }
  std::vector<std::string> unused_tensors(const std::vector<WeightKey>& bound) const override;

 private:
  const TensorSource& tensors_;
};

// bind_weights over HF names: what tests and benchmarks with in-memory HF-named tensors use.
ModelWeights bind_hf_weights(const ModelConfig& config, const TensorSource& tensors);

}  // namespace dsmoe
