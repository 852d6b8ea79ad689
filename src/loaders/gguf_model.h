// A model held in one GGUF file as llama.cpp writes it: metadata keys to ModelConfig, tensor names to the model's
// weight roles (routed experts sliced out of their stacked 3-D tensors without copying), tokenizer.ggml.* to a
// tokenizer. Q and K rows in these files are permuted for adjacent-pair RoPE, so the config says kInterleaved.
#pragma once

#include <memory>
#include <string>

#include "io/gguf_file.h"
#include "loaders/gguf_vocab.h"
#include "loaders/model_files.h"
#include "model/config.h"
#include "model/weight_source.h"

namespace dsmoe {

// general.architecture "deepseek" or "llama"; anything else is an Error naming the file and the value.
ModelConfig gguf_model_config(const GgufFile& file);

class GgufWeightSource : public WeightSource {
 public:
  GgufWeightSource(std::unique_ptr<GgufFile> file, int64_t n_experts) : file_(std::move(file)), n_experts_(n_experts) {}

  std::optional<TensorView> find(const WeightKey& key) const override;
  std::string tensor_name(const WeightKey& key) const override;
  std::string origin(const WeightKey&) const override { return file_->path(); }
  std::string origin_of(const std::string&) const override { return file_->path(); }
  std::vector<std::string> unused_tensors(const std::vector<WeightKey>& bound) const override;
  const GgufFile& file() const { return *file_; }

 private:
  std::unique_ptr<GgufFile> file_;
  int64_t n_experts_;  // the stacked expert tensors must hold exactly this many
};

// tokenizer.ggml.* and tokenizer.chat_template; an empty vocabulary (no tokens) when the file has none.
GgufVocabulary gguf_vocabulary(const GgufFile& file);

ModelFiles open_gguf_model(const std::string& path, const OpenOptions& options);

}  // namespace dsmoe
