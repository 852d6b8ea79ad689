// The library's own view of a public Model: its configuration and layers, which the public header keeps out of
// sight (include/dsmoe/dsmoe.h offers ModelInfo instead). Commands that study a model (inspect, logits, bench)
// and the runtime use these.
#pragma once

#include "dsmoe/dsmoe.h"
#include "model/config.h"
#include "model/transformer.h"

namespace dsmoe {

class ModelAccess {
 public:
  static const ModelConfig& config(const Model& model);
  static const Transformer& transformer(const Model& model);
};

inline const ModelConfig& model_config(const Model& model) { return ModelAccess::config(model); }
inline const Transformer& model_transformer(const Model& model) { return ModelAccess::transformer(model); }

}  // namespace dsmoe
