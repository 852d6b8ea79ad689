// HF config.json (DeepseekConfig / LlamaConfig keys) parsed into the typed, validated ModelConfig.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "model/config.h"

namespace dsmoe {

// Throws Error naming `source` and the offending key.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& source);
ModelConfig load_model_config(const std::string& config_path);

}  // namespace dsmoe
