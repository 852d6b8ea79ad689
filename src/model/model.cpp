#include <filesystem>

#include "core/errors.h"
#include "dsmoe/dsmoe.h"
#include "io/tensor_store.h"
#include "model/rope_config.h"
#include "model/transformer.h"

namespace dsmoe {

struct Model::Impl {
  std::string directory;
  std::unique_ptr<SafetensorsStore> store;  // owns the mapped files the weights point into
  std::unique_ptr<Transformer> transformer;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& options) {
  if (!std::filesystem::is_directory(dir)) fail(dir, ": not a model directory");
  auto impl = std::make_unique<Impl>();
  impl->directory = dir;
  ModelConfig config = load_model_config((std::filesystem::path(dir) / "config.json").string());
  apply_rope_overrides(config, options.rope);
  impl->store = std::make_unique<SafetensorsStore>(dir);
  ModelWeights weights = bind_weights(config, *impl->store);
  impl->transformer = std::make_unique<Transformer>(std::move(config), std::move(weights));
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const { return impl_->transformer->config(); }
const Transformer& Model::transformer() const { return *impl_->transformer; }
const std::string& Model::directory() const { return impl_->directory; }

}  // namespace dsmoe
